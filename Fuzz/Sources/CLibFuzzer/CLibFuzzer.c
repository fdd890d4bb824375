// Only the header matters: LLVMFuzzerRunDriver is in the libFuzzer runtime.
#include "CLibFuzzer.h"
