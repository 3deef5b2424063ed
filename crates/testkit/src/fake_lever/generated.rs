//! Large files made up on the fly: served, and checked on arrival, without ever being held
//! whole (for tests that prove memory stays flat in a file's size).

use std::convert::Infallible;

use axum::body::Bytes;
use futures_util::Stream;
use sha2::{Digest, Sha256};

/// How many bytes a generated file is produced in at a time.
const CHUNK_BYTES: u64 = 64 * 1024;

/// The bytes `offset..offset + len` of every generated file: byte `i` is `i mod 251` (a prime,
/// so chunks of power-of-two sizes differ from each other).
fn generated_chunk(offset: u64, len: u64) -> Bytes {
    (offset..offset + len)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<u8>>()
        .into()
}

/// The chunks of a `len`-byte generated file, in order.
fn chunks(len: u64) -> impl Iterator<Item = Bytes> {
    (0..len)
        .step_by(CHUNK_BYTES as usize)
        .map(move |offset| generated_chunk(offset, CHUNK_BYTES.min(len - offset)))
}

/// A `len`-byte generated file as a body stream.
pub(crate) fn generated_stream(len: u64) -> impl Stream<Item = Result<Bytes, Infallible>> {
    futures_util::stream::iter(chunks(len).map(Ok))
}

/// The SHA-256 (lower-case hex) of a `len`-byte file served with
/// [`FakeLever::serve_generated_file`](super::FakeLever::serve_generated_file): compare it with
/// [`Upload::sha256`](super::Upload::sha256) to check such a file arrived intact.
pub fn generated_file_sha256(len: u64) -> String {
    let mut hasher = Sha256::new();
    chunks(len).for_each(|chunk| hasher.update(&chunk));
    hex(&hasher.finalize())
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_file_exactly_and_continue_the_pattern() {
        let len = 2 * CHUNK_BYTES + 5;
        let whole: Vec<u8> = chunks(len).flat_map(|chunk| chunk.to_vec()).collect();
        assert_eq!(whole.len() as u64, len);
        assert!(whole.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
    }

    #[test]
    fn the_digest_is_the_digest_of_the_whole_file() {
        let len = CHUNK_BYTES + 17;
        let whole: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        assert_eq!(generated_file_sha256(len), hex(&Sha256::digest(&whole)));
    }
}
