//! Replays every input a fuzzer found (`fuzz/regressions/<target>/*`) through the same
//! property the fuzz target checks, so a fixed crash stays fixed where no fuzzer runs.

use std::path::PathBuf;

#[test]
fn found_inputs_hold_their_properties() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut replayed = 0;
    for (name, property) in strata::fuzzing::TARGETS {
        let dir = root.join(name);
        assert!(dir.is_dir(), "fuzz/regressions/{name} is missing");
        let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("read")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.file_name().is_some_and(|n| n != ".keep"))
            .collect();
        inputs.sort();
        for input in inputs {
            let data = std::fs::read(&input).expect("read input");
            let outcome = std::panic::catch_unwind(|| property(&data));
            assert!(outcome.is_ok(), "{name}: {} fails again", input.display());
            replayed += 1;
        }
    }
    eprintln!("replayed {replayed} found inputs");
}
