//! Integration tests of cordon-formats: every format read from fixtures in
//! its real layout (tests/fixtures, see its README), good and broken, plus
//! detection and property tests.

mod util;

mod abusech;
mod detect;
mod generic_csv;
mod lists;
mod phishing;
mod properties;
mod spamhaus;
mod streams;
