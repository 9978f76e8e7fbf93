//! `armlet-conformance table [--cpu MODEL]` prints the decoder table (after a line with the
//! model's features); `armlet-conformance run [--cpu MODEL]` executes cases from stdin, one
//! result line per case (see the library docs). MODEL is cortex-m3 (default), cortex-m4 or
//! cortex-m7. `armlet-conformance fparith` answers floating-point cases (see `fpcase`).

use std::io::{BufRead, Write};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().cloned().unwrap_or_default();
    let cpu = match args.get(1..) {
        Some([]) | None => "cortex-m3",
        Some([flag, model]) if flag == "--cpu" => model.as_str(),
        Some(_) => usage(),
    };
    let Some(features) = armlet_conformance::cpu_features(cpu) else {
        eprintln!("unknown cpu model {cpu} (cortex-m3, cortex-m4, cortex-m7)");
        std::process::exit(2);
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match mode.as_str() {
        "table" => {
            let _ = writeln!(out, "{}", armlet_conformance::features_line(cpu, features));
            let _ = out.write_all(armlet_conformance::table().as_bytes());
        }
        "run" => {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                let res = armlet_conformance::run_case_on(&line, features)
                    .unwrap_or_else(|e| format!("error {e}"));
                if writeln!(out, "{res}").is_err() {
                    break;
                }
            }
        }
        "fparith" => {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                let res = armlet_conformance::fpcase::run_fp_case(&line)
                    .unwrap_or_else(|e| format!("error {e}"));
                if writeln!(out, "{res}").is_err() {
                    break;
                }
            }
        }
        _ => usage(),
    }
    let _ = out.flush();
}

fn usage() -> ! {
    eprintln!("usage: armlet-conformance table|run [--cpu cortex-m3|cortex-m4|cortex-m7] < cases | fparith < fp-cases");
    std::process::exit(2);
}
