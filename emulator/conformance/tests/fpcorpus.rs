//! The floating-point regression corpus (`fpcorpus.txt`): every case must give its recorded
//! result (recorded from Unicorn, or from armlet where a reviewed rule of `fpexclusions.toml`
//! applies; the line says which).

#[test]
fn fp_corpus_cases_give_their_recorded_results() {
    let text = include_str!("../fpcorpus.txt");
    let mut failures = Vec::new();
    let mut n = 0;
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let (case, rest) = line.split_once("=>").expect("CASE => EXPECTED");
        let expected = rest.split('#').next().unwrap_or("").trim();
        let got = armlet_conformance::fpcase::run_fp_case(case.trim()).expect("well-formed case");
        if got != expected {
            failures.push(format!(
                "{}\n  want: {expected}\n  got:  {got}",
                case.trim()
            ));
        }
        n += 1;
    }
    assert!(n >= 300, "only {n} corpus cases");
    assert!(
        failures.is_empty(),
        "{} of {n} corpus cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
