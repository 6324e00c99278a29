//! Tests of the export writers: golden files for every textual format and
//! checks by the real consumers (stix2-validator, PyMISP, mmdblookup and
//! the `maxminddb` crate).

mod fixture;
mod golden;
mod limits;
mod misp;
mod mmdb;
mod reload;
mod stix;
