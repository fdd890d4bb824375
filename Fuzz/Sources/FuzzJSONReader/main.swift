import FuzzSupport

// libFuzzer runs LLVMFuzzerTestOneInput (the `fuzz` function of this target) with its options
// and corpus folders from the command line.
runLibFuzzer(fuzz)
