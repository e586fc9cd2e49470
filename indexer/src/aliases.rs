//! One error, several names: what a program prints and what people search for are not
//! always the same words. An errno's name (`EACCES`, from Node, Go or strace) and its
//! message (`Permission denied`, from the C library's `strerror`) name one failure; and
//! a message that a newer version of a program rewrote (bash 5.2 says `cannot execute:
//! required file not found` where bash 5.1 said `bad interpreter: No such file or
//! directory`) is still searched for by the words people copied from the older one.
//!
//! A query's word or phrase that is one of these names also matches the others in the
//! output (beside, never instead of, its own words).

/// Names of one error (lowercase; a name of several words matches as a phrase).
const ALIASES: &[&[&str]] = &[
    &["eperm", "operation not permitted"],
    &["enoent", "no such file or directory"],
    &["eacces", "permission denied"],
    &["eexist", "file exists"],
    &["enotdir", "not a directory"],
    &["eisdir", "is a directory"],
    &["einval", "invalid argument"],
    &["emfile", "too many open files"],
    &["enospc", "no space left on device"],
    &["erofs", "read-only file system"],
    &["enoexec", "exec format error"],
    &["enotempty", "directory not empty"],
    &["ebusy", "device or resource busy"],
    &["etxtbsy", "text file busy"],
    &["eaddrinuse", "address already in use"],
    &["econnrefused", "connection refused"],
    &["econnreset", "connection reset by peer"],
    &["etimedout", "connection timed out"],
    &["ehostunreach", "no route to host"],
    &["enetunreach", "network is unreachable"],
    &["epipe", "broken pipe"],
    &["enomem", "cannot allocate memory"],
    &["e2big", "argument list too long"],
    &["eloop", "too many levels of symbolic links"],
    &["enametoolong", "file name too long"],
    // A script whose interpreter is missing (or ends in `\r`): bash ≤ 5.1, then 5.2+.
    &["bad interpreter", "required file not found"],
];

/// The other names of the error `text` names (empty for most text).
pub(crate) fn others(text: &str) -> Vec<&'static str> {
    let t: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    ALIASES
        .iter()
        .find(|names| names.contains(&t.as_str()))
        .map(|names| names.iter().copied().filter(|n| *n != t).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::others;

    #[test]
    fn an_errno_name_and_its_message_are_one_error() {
        assert_eq!(others("EACCES"), ["permission denied"]);
        assert_eq!(others("Permission  denied"), ["eacces"]);
        assert_eq!(others("bad interpreter"), ["required file not found"]);
        assert!(others("permission").is_empty());
        assert!(others("chattr").is_empty());
    }
}
