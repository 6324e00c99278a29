//! Imports files into a snapshot and times loading and lookups:
//! `cargo run --release -p cordon-enrich --example geo_import -- OUT.snap FILE...`.
use std::path::Path;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (out, inputs) = args.split_first().ok_or("usage: geo_import OUT.snap FILE...")?;
    let started = Instant::now();
    let mut import = cordon_enrich::Import::new();
    for input in inputs {
        import.add_path(Path::new(input));
    }
    let report = import.finish();
    for diagnostic in &report.diagnostics {
        println!("{diagnostic}");
    }
    println!("{:?} v4 {} v6 {} in {:?}", report.files, report.v4_segments, report.v6_segments, started.elapsed());
    cordon_enrich::write_snapshot(Path::new(out), &report.snapshot)?;
    let started = Instant::now();
    let db = cordon_enrich::GeoDb::load(Path::new(out))?;
    println!("load {:?} {:?}", started.elapsed(), db.stats());
    for ip in ["1.1.1.1", "8.8.8.8", "10.1.2.3", "2a01:4f8::1", "2606:4700:4700::1111", "51.38.1.1"] {
        println!("{ip} {:?}", db.lookup(ip.parse()?));
    }
    Ok(())
}
