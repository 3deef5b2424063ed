//! Files for multipart uploads: fetched from their URLs with a size limit, from public
//! addresses only (unless allowed), and streamed into the upload; or fetched whole, under the
//! same limit, to be embedded base64-encoded in a JSON body.

mod embed;
mod fetch;
mod multipart;

pub(crate) use embed::embed_files;
pub(crate) use fetch::{FetchLimits, FileFault};
pub(crate) use multipart::build_form;
