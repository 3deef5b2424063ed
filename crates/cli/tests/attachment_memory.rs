//! Memory stays flat in an attachment's size: `switchboard serve` streams a 25 MB `file_url`
//! resume from the file server to Lever (here the testkit's fake), and its peak RSS grows by
//! less than 4 MB while it does.

#[path = "support/attachment_rss.rs"]
mod attachment_rss;

use attachment_rss::Setup;

/// The file: 25 MB.
const FILE_BYTES: u64 = 25 * 1000 * 1000;

/// The most the server's peak RSS may grow while it streams the file: 4 MB.
const MAX_GROWTH_BYTES: u64 = 4 * 1000 * 1000;

#[test]
fn a_25_mb_file_url_upload_streams_through_in_flat_memory() {
    let mut setup = Setup::start("attachment-memory");
    let measured = setup.measure(FILE_BYTES);
    eprintln!("{measured:?}, growth {} bytes", measured.growth());
    assert!(
        measured.growth() < MAX_GROWTH_BYTES,
        "the server's peak RSS grew by {} bytes while it streamed a {}-byte file \
         (baseline {}, peak {}, peak reset first: {})",
        measured.growth(),
        measured.file_bytes,
        measured.baseline,
        measured.peak,
        measured.reset
    );
}
