# fixcast: reads the user's @FILE@ as zsh would have, with the user's ZDOTDIR.
if [[ @FILE@ == .zshenv && -z ${__fixcast_dir+x} ]]; then
    typeset -g __fixcast_dir=$ZDOTDIR __fixcast_user_zdotdir=${FIXCAST_USER_ZDOTDIR-}
    unset FIXCAST_USER_ZDOTDIR
fi
if [[ -n $__fixcast_user_zdotdir ]]; then
    export ZDOTDIR=$__fixcast_user_zdotdir
else
    unset ZDOTDIR
fi
if [[ -f ${ZDOTDIR:-$HOME}/@FILE@ ]]; then
    source ${ZDOTDIR:-$HOME}/@FILE@
fi
# The user's file may have set ZDOTDIR (often .zshenv does): follow it.
__fixcast_user_zdotdir=${ZDOTDIR-}
# zsh reads each next startup file from $ZDOTDIR: point it here until the last one.
case @FILE@ in
    (.zshenv) [[ -o login || -o interactive ]] && ZDOTDIR=$__fixcast_dir ;;
    (.zprofile) ZDOTDIR=$__fixcast_dir ;;
    (.zshrc)
        [[ -o interactive ]] && source $__fixcast_dir/fixcast.zsh
        [[ -o login ]] && ZDOTDIR=$__fixcast_dir ;;
esac
if [[ ${ZDOTDIR-} != $__fixcast_dir ]]; then
    unset __fixcast_dir __fixcast_user_zdotdir
fi
