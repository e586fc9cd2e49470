//! A zstd decoding context and its output buffer, lent by the thread: a search decodes a
//! little of many recordings, and making these afresh for each (the context's tables, a
//! zeroed 256 KiB buffer) cost more than the decoding itself.

use std::cell::RefCell;

use zstd::stream::raw::{Decoder, Operation};

/// What a [`crate::CastDecoder`] decodes with.
pub(crate) struct Parts {
    pub zstd: Decoder<'static>,
    pub out: Vec<u8>,
}

impl Parts {
    /// Forgets the frame being decoded (after damage, at a seek mark).
    pub fn reset(&mut self) {
        self.zstd.reinit().expect("a zstd decoder can be reset");
    }
}

thread_local! {
    /// The parts the last decoder on this thread gave back, reset.
    static SPARE: RefCell<Option<Parts>> = const { RefCell::new(None) };
}

/// Parts lent to a decoder: its thread's spare when there is one (else new), given back
/// reset when dropped.
pub(crate) struct Lent(Option<Parts>);

impl Lent {
    /// Parts with an output buffer of `out_len` bytes.
    pub fn new(out_len: usize) -> Lent {
        let spare = SPARE
            .try_with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.take()))
            .ok()
            .flatten()
            .filter(|p| p.out.len() == out_len);
        Lent(Some(spare.unwrap_or_else(|| Parts {
            zstd: Decoder::new().expect("a zstd decoder can be created"),
            out: vec![0; out_len],
        })))
    }

    pub fn get(&mut self) -> &mut Parts {
        self.0.as_mut().expect("lent parts are held until dropped")
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        let Some(mut parts) = self.0.take() else {
            return;
        };
        // A context reset forgets the frame it was in: the next decoder starts afresh.
        if parts.zstd.reinit().is_err() {
            return;
        }
        // At the thread's end the spare may be gone already: the parts are then freed.
        let _ = SPARE.try_with(|s| {
            if let Ok(mut s) = s.try_borrow_mut() {
                if s.is_none() {
                    *s = Some(parts);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decoder dropped in the middle of a frame gives back a context that decodes the
    /// next recording from its start.
    #[test]
    fn parts_given_back_mid_frame_decode_afresh() {
        let first = zstd::encode_all(&b"first frame, long enough to matter"[..], 3).unwrap();
        let second = zstd::encode_all(&b"second"[..], 3).unwrap();
        {
            let mut lent = Lent::new(1024);
            let p = lent.get();
            let mut src = zstd::stream::raw::InBuffer::around(&first[..first.len() / 2]);
            let mut dst = zstd::stream::raw::OutBuffer::around(&mut p.out[..]);
            p.zstd.run(&mut src, &mut dst).unwrap();
        }
        let mut lent = Lent::new(1024);
        let p = lent.get();
        let mut src = zstd::stream::raw::InBuffer::around(&second[..]);
        let mut dst = zstd::stream::raw::OutBuffer::around(&mut p.out[..]);
        p.zstd.run(&mut src, &mut dst).unwrap();
        let n = dst.pos();
        assert_eq!(&p.out[..n], b"second");
    }
}
