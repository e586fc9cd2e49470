# fixcast shell integration for zsh, sourced after the user's .zshrc.
#
# Marks each command with OSC 133 (A prompt, B input, C output, D;status), OSC 7 (cwd)
# and OSC 633;E (the command line, from preexec's $1: exactly what was typed, newlines
# included). Every sequence ends with ST (ESC \). Hooks are added with add-zsh-hook,
# next to the user's (oh-my-zsh, powerlevel10k, starship): ours comes first in precmd,
# while $? is the command's status, and last to wrap PS1 after themes have set it.

if [[ -z ${__fixcast_installed-} ]]; then
typeset -g __fixcast_installed=1 __fixcast_ran=0
typeset -g __fixcast_ps1= __fixcast_ps1_user= __fixcast_pwd= __fixcast_pwd_url=

__fixcast_osc7() {
    emulate -L zsh
    if [[ $PWD != "$__fixcast_pwd" ]]; then
        setopt no_multibyte
        local s=$PWD out= c i
        for (( i = 1; i <= $#s; i++ )); do
            c=$s[i]
            case $c in
                ([a-zA-Z0-9/._~-]) out+=$c ;;
                (*) builtin printf -v c '%%%02X' "'$c"; out+=$c ;;
            esac
        done
        __fixcast_pwd=$PWD __fixcast_pwd_url=$out
    fi
    builtin printf '\e]7;file://%s%s\e\\' "$HOST" "$__fixcast_pwd_url"
}

__fixcast_precmd() {
    local s=$?
    if (( __fixcast_ran )); then
        builtin printf '\e]133;D;%s\e\\' "$s"
    fi
    __fixcast_ran=0
    __fixcast_osc7
    return s
}

__fixcast_prompt() {
    local s=$?
    [[ $PS1 == "$__fixcast_ps1" ]] || __fixcast_ps1_user=$PS1
    __fixcast_ps1=$'%{\e]133;A\e\\%}'$__fixcast_ps1_user$'%{\e]133;B\e\\%}'
    PS1=$__fixcast_ps1
    return s
}

__fixcast_preexec() {
    emulate -L zsh
    local s=${1:-$3} i h c
    s=${s//\\/\\\\}
    s=${s//;/\\x3b}
    if [[ $s == *[[:cntrl:]]* ]]; then
        for i in {1..31} 127; do
            builtin printf -v h '%02x' $i
            builtin printf -v c "\\x$h"
            s=${s//"$c"/\\x$h}
        done
    fi
    builtin printf '\e]633;E;%s\e\\\e]133;C\e\\' "$s"
    __fixcast_ran=1
}

autoload -Uz add-zsh-hook
add-zsh-hook precmd __fixcast_precmd
add-zsh-hook preexec __fixcast_preexec
precmd_functions=(__fixcast_precmd ${precmd_functions:#__fixcast_precmd} __fixcast_prompt)
fi
