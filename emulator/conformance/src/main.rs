//! `armlet-conformance table` prints the decoder table; `armlet-conformance run` executes
//! cases from stdin, one result line per case (see the library docs); `armlet-conformance
//! fparith` answers floating-point cases (see `fpcase`).

use std::io::{BufRead, Write};

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match mode.as_str() {
        "table" => {
            let _ = out.write_all(armlet_conformance::table().as_bytes());
        }
        "run" => {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                let res =
                    armlet_conformance::run_case(&line).unwrap_or_else(|e| format!("error {e}"));
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
        _ => {
            eprintln!("usage: armlet-conformance table | run < cases | fparith < fp-cases");
            std::process::exit(2);
        }
    }
    let _ = out.flush();
}
