//! Fuzz target `yaml_reader`: the property is `strata::fuzzing::yaml_reader`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| strata::fuzzing::yaml_reader(data));
