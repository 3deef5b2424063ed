//! Files for multipart uploads: fetched from their URLs with a size limit, from public
//! addresses only (unless allowed), and streamed into the upload.

mod fetch;
mod multipart;

pub(crate) use fetch::{FetchLimits, FileFault};
pub(crate) use multipart::{build_form, file_count};
