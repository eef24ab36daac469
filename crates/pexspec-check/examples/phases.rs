//! Times the phases of lint on one spec: `cargo run --release --example phases SPEC`.
#![allow(clippy::print_stdout, missing_docs)]
fn main() {
    let Some(path) = std::env::args().nth(1) else {
        return;
    };
    let t = std::time::Instant::now();
    let Ok(text) = std::fs::read_to_string(&path) else {
        return;
    };
    let t_read = t.elapsed();
    let loaded = pexspec_spec::load(&path, &text, std::path::PathBuf::from("."));
    let t_load = t.elapsed();
    let d = pexspec_check::check(&loaded, pexspec_check::Mode::Lint);
    let t_check = t.elapsed();
    println!(
        "read {t_read:?} load {:?} check {:?} findings {}",
        t_load - t_read,
        t_check - t_load,
        d.len()
    );
}
