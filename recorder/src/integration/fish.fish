# fixcast shell integration for fish, sourced by --init-command after the user's config.
#
# Marks each command with OSC 133 (A prompt, B input, C output, D;status), OSC 7 (cwd)
# and OSC 633;E (the command line, from fish_preexec: exactly what was typed, newlines
# included). Every sequence ends with ST (ESC \).
#
# fish 4 and later print OSC 133 themselves, the command line included
# (133;C;cmdline_url=..., before fish_preexec runs): then only OSC 7 is added. A 633;E
# from fish_preexec would come after that C, and no second A/B/C/D is printed.

if status is-interactive; and not set -q __fixcast_installed
    set -g __fixcast_installed 1
    set -g __fixcast_ran 0

    function __fixcast_osc7 --on-event fish_prompt
        printf '\e]7;file://%s%s\e\\' $hostname (string escape --style=url -- $PWD)
    end

    set -l major (string split -f1 . -- $version)
    if not test "$major" -ge 4 2>/dev/null
        function __fixcast_preexec --on-event fish_preexec
            set -l s (string replace -a -- '\\' '\\\\' $argv[1] | string collect)
            set s (string replace -a -- ';' '\\x3b' $s | string collect)
            set s (string replace -a -- \n '\\x0a' $s | string collect)
            for i in (seq 1 9) (seq 11 31) 127
                set -l h (printf '%02x' $i)
                set s (string replace -a -- (printf "\\x$h") "\\x$h" $s | string collect)
            end
            printf '\e]633;E;%s\e\\' $s
            printf '\e]133;C\e\\'
            set -g __fixcast_ran 1
        end

        function __fixcast_postexec --on-event fish_postexec
            set -l s $status
            if test $__fixcast_ran = 1
                printf '\e]133;D;%s\e\\' $s
            end
            set -g __fixcast_ran 0
        end

        function __fixcast_set_status
            return $argv[1]
        end

        # The prompt the user sees is theirs, between A and B.
        functions -q fish_prompt; and functions -c fish_prompt __fixcast_user_prompt
        function fish_prompt
            set -l s $status
            printf '\e]133;A\e\\'
            if functions -q __fixcast_user_prompt
                __fixcast_set_status $s
                __fixcast_user_prompt
            end
            printf '\e]133;B\e\\'
        end
    end
end
