//! Integration tests of cordon-formats: every format read from fixtures in
//! its real layout (tests/fixtures, see its README), good and broken, plus
//! detection and property tests. `autotests = false` (see Cargo.toml): a new
//! test file runs only once it is listed here.

mod util;

mod abusech;
mod detect;
mod generic_csv;
mod hostile;
mod lists;
mod misp;
mod phishing;
mod properties;
mod shapes;
mod spamhaus;
mod stix;
mod streams;
