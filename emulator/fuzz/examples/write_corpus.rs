//! Write each harness's seeds as initial cargo-fuzz corpora: `DIR/NAME/seed-N`.
//! Usage: `cargo run -p armlet-fuzz --example write_corpus -- DIR`.

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "corpus".into());
    let mut r = armlet_fuzz::rng::Rng::new(1);
    for (name, _) in armlet_fuzz::HARNESSES {
        let d = std::path::Path::new(&dir).join(name);
        std::fs::create_dir_all(&d).expect("create corpus directory");
        let mut all = armlet_fuzz::seeds::seeds(name);
        all.extend((0..16).map(|_| armlet_fuzz::seeds::generate(name, &mut r)));
        for (i, s) in all.iter().enumerate() {
            std::fs::write(d.join(format!("seed-{i}")), s).expect("write seed");
        }
        println!("{name}: {} seeds in {}", all.len(), d.display());
    }
}
