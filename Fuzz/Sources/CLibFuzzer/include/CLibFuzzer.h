// libFuzzer's driver, from the runtime `-sanitize=fuzzer` links (compiler-rt's FuzzerInterface.h).
// The targets call it from their own main: SwiftPM links an executable's main to the module's
// entry point (--defsym main=<module>_main), so libFuzzer's own main never runs.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
