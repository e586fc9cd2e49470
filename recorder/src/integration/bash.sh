# fixcast shell integration for bash, read as `bash --rcfile THIS`.
#
# bash has already read /etc/bash.bashrc when it was built to (Debian, Ubuntu): it does
# so with --rcfile too. Here: the user's ~/.bashrc, then hooks that mark each command
# with OSC 133 (A prompt, B input, C output, D;status), OSC 7 (cwd) and OSC 633;E (the
# command line). Every sequence ends with ST (ESC \). The user's settings are not
# changed: only PROMPT_COMMAND, PS1, PS2, PS0 and the DEBUG trap are extended.
#
# How a command line is seen: PS0 is shown once per command line, before it runs, in
# this shell (an arithmetic subscript records the state, a command substitution prints
# the marks). The line itself comes from `history 1`, which is what bash saved: with
# cmdhist (the default) a multi-line command is one entry whose lines are joined with
# `;` (newlines kept with lithist, and always in here-documents); a backslash-newline
# is removed (the recorder reads the lines as typed off the screen, between the marked
# continuation prompts, and keeps them when they hold the same command). When the line
# did not reach the history (HISTCONTROL, HISTIGNORE,
# `set +o history`: HISTCMD did not change), the DEBUG trap prints the marks with
# $BASH_COMMAND, the first simple command. Without promptvars, PS0 cannot be used and
# the DEBUG trap alone marks commands (then a line that is only a subshell is missed).

if [ -f "$HOME/.bashrc" ]; then
    . "$HOME/.bashrc"
fi

if [[ $- == *i* && -z ${__fixcast_installed-} ]]; then
__fixcast_installed=1
__fixcast_ran=0      # C was printed for the current command line
__fixcast_armed=0    # the next DEBUG trap marks the command line
__fixcast_hist=0     # HISTCMD at the prompt
__fixcast_ps0_hist=0 # HISTCMD when PS0 was shown
__fixcast_status=0   # $? at the last prompt
__fixcast_prompts=0
__fixcast_a=()       # always empty: PS0 evaluates assignments in its subscript
__fixcast_ps1= __fixcast_ps1_user= __fixcast_ps0= __fixcast_ps0_user=
__fixcast_ps2= __fixcast_ps2_user=
__fixcast_pwd= __fixcast_pwd_url=

# The last history entry into __fixcast_line, its number into __fixcast_histnum;
# false when there is none.
__fixcast_history_line() {
    local h
    h=$(HISTTIMEFORMAT= builtin history 1) || return 1
    h=${h#"${h%%[![:space:]]*}"}
    __fixcast_histnum=${h%%[!0-9]*}
    [[ -n $__fixcast_histnum ]] || return 1
    __fixcast_line=${h:${#__fixcast_histnum}+2}
}

# Prints OSC 633;E with $1 escaped as VS Code does, then OSC 133;C.
__fixcast_mark_exec() {
    local s=$1 i h c
    s=${s//\\/\\\\}
    s=${s//;/\\x3b}
    if [[ $s == *[[:cntrl:]]* ]]; then
        for i in {1..31} 127; do
            printf -v h '%02x' "$i"
            printf -v c "\\x$h"
            s=${s//"$c"/\\x$h}
        done
    fi
    builtin printf '\e]633;E;%s\e\\\e]133;C\e\\' "$s"
}

# PS0's command substitution (a subshell): marks a line that reached the history.
__fixcast_ps0_marks() {
    local __fixcast_line __fixcast_histnum
    if (( __fixcast_ran )) && __fixcast_history_line; then
        __fixcast_mark_exec "$__fixcast_line"
    fi
}

__fixcast_preexec() {
    (( __fixcast_armed )) || return 0
    [[ -z ${COMP_LINE-} && -z ${READLINE_POINT+x} ]] || return 0
    __fixcast_armed=0
    # A prompt with no command line: the DEBUG trap of PROMPT_COMMAND itself.
    [[ $BASH_COMMAND == __fixcast_precmd ]] && return 0
    (( __fixcast_ran )) && return 0
    # HISTCMD is one less while a command runs (bash 5.1+): compare numbers instead.
    local line=$BASH_COMMAND __fixcast_line __fixcast_histnum
    if __fixcast_history_line && { (( __fixcast_histnum >= __fixcast_hist )) || [[ $__fixcast_line == "$BASH_COMMAND" ]]; }; then
        line=$__fixcast_line
    fi
    __fixcast_ran=1
    __fixcast_mark_exec "$line"
}

__fixcast_set_status() { return "$1"; }

__fixcast_debug() {
    local s=$? last=$1
    __fixcast_preexec
    if [[ -n $__fixcast_user_debug ]]; then
        __fixcast_set_status "$s" "$last"
        eval "$__fixcast_user_debug"
        return
    fi
    return 0
}

__fixcast_osc7() {
    if [[ $PWD != "$__fixcast_pwd" ]]; then
        local LC_ALL=C s=$PWD out= c i
        for (( i = 0; i < ${#s}; i++ )); do
            c=${s:i:1}
            case $c in
                [a-zA-Z0-9/._~-]) out+=$c ;;
                *) printf -v c '%%%02X' "'$c"; out+=$c ;;
            esac
        done
        __fixcast_pwd=$PWD __fixcast_pwd_url=$out
    fi
    builtin printf '\e]7;file://%s%s\e\\' "${HOSTNAME-}" "$__fixcast_pwd_url"
}

# First at each prompt, while $? is still the command's status.
__fixcast_precmd() {
    local s=$?
    __fixcast_armed=0
    if (( __fixcast_ran )); then
        builtin printf '\e]133;D;%s\e\\' "$s"
    elif (( s == 130 && __fixcast_status != 130 && __fixcast_prompts )); then
        # Ctrl-C at the prompt: the line typed so far was abandoned.
        builtin printf '\e]133;D;%s\e\\' "$s"
    fi
    __fixcast_ran=0 __fixcast_status=$s __fixcast_hist=$HISTCMD
    __fixcast_prompts=$((__fixcast_prompts + 1))
    __fixcast_osc7
    return "$s"
}

# Last at each prompt, after anything (starship, themes) that sets PS1 or PS0.
__fixcast_prompt() {
    local s=$?
    # Each prompt variable is assigned only when it changes: bash keeps a pointer to
    # the value of PS0 from the prompt on, and a key binding that runs PROMPT_COMMAND
    # itself (atuin's enter_accept) would free it under bash's feet (PS0 then prints
    # garbage for the next command).
    [[ $PS1 == "$__fixcast_ps1" ]] || {
        __fixcast_ps1_user=$PS1
        __fixcast_ps1='\[\e]133;A\e\\\]'$__fixcast_ps1_user'\[\e]133;B\e\\\]'
        PS1=$__fixcast_ps1
    }
    # Continuation prompts as kitty marks them (133;A;k=s): the lines of a multi-line
    # command can then be read off the screen as typed, where history joined them.
    [[ ${PS2-} == "$__fixcast_ps2" ]] || {
        __fixcast_ps2_user=${PS2-}
        __fixcast_ps2='\[\e]133;A;k=s\e\\\]'$__fixcast_ps2_user'\[\e]133;B\e\\\]'
        PS2=$__fixcast_ps2
    }
    [[ ${PS0-} == "$__fixcast_ps0" ]] || __fixcast_ps0_user=${PS0-}
    if shopt -q promptvars; then
        __fixcast_ps0='${__fixcast_a[(__fixcast_ps0_hist=HISTCMD),(__fixcast_ran=HISTCMD!=__fixcast_hist),(__fixcast_armed=!__fixcast_ran),0]-}'$__fixcast_ps0_user'$(__fixcast_ps0_marks)'
    else
        __fixcast_ps0=$__fixcast_ps0_user
        __fixcast_armed=1
    fi
    [[ ${PS0-} == "$__fixcast_ps0" ]] || PS0=$__fixcast_ps0
    # With bash-preexec, last in PROMPT_COMMAND but for its __bp_interactive_mode: its
    # DEBUG trap took this call for part of the prompt and turned that mode off. At the
    # first prompt, where bash-preexec installs itself, nothing would turn it on again
    # (bash runs the PROMPT_COMMAND it had), and the user's preexec hooks would miss the
    # first command.
    if [[ -n ${bash_preexec_imported-}${__bp_imported-} ]] && declare -F __bp_interactive_mode >/dev/null; then
        __bp_interactive_mode
    fi
    return "$s"
}

# bash-preexec's preexec hook. A key binding that runs the line itself, in place of
# accept-line (atuin's enter_accept), calls the preexec hooks too, with the line as $1:
# bash then shows no PS0 and the DEBUG trap is for the binding (READLINE_POINT set).
__fixcast_bp_preexec() {
    if [[ -n ${READLINE_POINT+x} && ${FUNCNAME[1]-} != __bp_preexec_invoke_exec ]]; then
        (( __fixcast_ran )) && return 0
        __fixcast_ran=1
        __fixcast_mark_exec "$1"
        return 0
    fi
    __fixcast_preexec
}

if [[ -n ${bash_preexec_imported-}${__bp_imported-} ]]; then
    # bash-preexec owns the DEBUG trap and, from the first prompt on, PROMPT_COMMAND:
    # its precmd functions run first there, then what PROMPT_COMMAND held before it
    # was sourced (a starship or a theme set up earlier in .bashrc sets PS1 there).
    # __fixcast_precmd is a precmd function (the first, for $?); __fixcast_prompt goes
    # last in PROMPT_COMMAND, where bash-preexec's install keeps it after all of these.
    precmd_functions=(__fixcast_precmd "${precmd_functions[@]}")
    preexec_functions+=(__fixcast_bp_preexec)
    if (( BASH_VERSINFO[0] > 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] >= 1) )); then
        PROMPT_COMMAND+=(__fixcast_prompt)
    else
        PROMPT_COMMAND+=$'\n__fixcast_prompt'
    fi
else
    __fixcast_user_debug=$(trap -p DEBUG)
    __fixcast_user_debug=${__fixcast_user_debug#"trap -- '"}
    __fixcast_user_debug=${__fixcast_user_debug%"' DEBUG"}
    __fixcast_user_debug=${__fixcast_user_debug//"'\\''"/"'"}
    trap '__fixcast_debug "$_"' DEBUG
    if (( BASH_VERSINFO[0] > 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] >= 1) )); then
        PROMPT_COMMAND=(__fixcast_precmd "${PROMPT_COMMAND[@]}" __fixcast_prompt)
    else
        PROMPT_COMMAND=__fixcast_precmd$'\n'${PROMPT_COMMAND:+$PROMPT_COMMAND$'\n'}__fixcast_prompt
    fi
fi
fi
