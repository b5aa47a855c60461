# The C contract suite (contract.c) and a backend's own C checks, built and
# run by a backend's test/native/Makefile, which sets:
#   MECH      the mechanism's sources (with a kernel emulation, if any)
#   MECH_INC  their -I flags
#   PROFILES  build variants (default: default), flag_<profile> their flags
#   OWN       the backend's own checks (a harness.c), or empty
# and includes this file. Both are linked with backend-core's front.c,
# fd.c and select.c, so the checks go through the production front. So is
# allocs.c (every backend, every profile): it counts the heap allocations a
# wait makes (malloc/calloc/realloc wrapped by the linker) and fails if a
# wait after the first allocates.
#   make run    every profile: the contract suite, then the backend's own
#   make asan   the same under AddressSanitizer and UBSan
CONTRACT_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
CORE := $(CONTRACT_DIR)/../../backend-core
CC ?= cc
CFLAGS ?= -O1 -g
WARN = -Wall -Wextra -Werror -std=gnu11 -pthread
SAN = -fsanitize=address,undefined -fno-sanitize-recover=all
INCLUDES = $(MECH_INC) -I$(CORE)/include -I$(CORE)/src -I$(CONTRACT_DIR)
CORE_SRCS = $(CORE)/src/front.c $(CORE)/src/fd.c $(CORE)/src/select.c
DEPS = $(MECH) $(CORE_SRCS) $(CONTRACT_DIR)/harness.h $(CONTRACT_DIR)/devices.h \
       $(CONTRACT_DIR)/macos_poll.h \
       $(CORE)/src/internal.h \
       $(CORE)/include/async_io/backend.h $(wildcard $(MECH_DEPS))
PROFILES ?= default
OUT = build
TAG = -DPROFILE='"$*"'

BINS = $(PROFILES:%=$(OUT)/contract-%) $(if $(OWN),$(PROFILES:%=$(OUT)/own-%)) \
       $(PROFILES:%=$(OUT)/allocs-%)
ASAN_BINS = $(subst $(OUT)/,$(OUT)/asan-,$(BINS))

.PHONY: all run asan clean
all: $(BINS)

$(OUT)/contract-% $(OUT)/asan-contract-%: $(CONTRACT_DIR)/contract.c $(DEPS)
	@mkdir -p $(OUT)
	$(CC) $(WARN) $(if $(findstring asan-,$@),-O1 -g $(SAN),$(CFLAGS)) \
	  $(flag_$*) $(TAG) -DHARNESS_TAG='"contract $*"' $(INCLUDES) -o $@ \
	  $(CONTRACT_DIR)/contract.c $(MECH) $(CORE_SRCS)

$(OUT)/own-% $(OUT)/asan-own-%: $(OWN) $(DEPS)
	@mkdir -p $(OUT)
	$(CC) $(WARN) $(if $(findstring asan-,$@),-O1 -g $(SAN),$(CFLAGS)) \
	  $(flag_$*) $(TAG) -DHARNESS_TAG='"$*"' $(INCLUDES) -o $@ \
	  $(OWN) $(MECH) $(CORE_SRCS)

WRAP_ALLOC = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc

$(OUT)/allocs-% $(OUT)/asan-allocs-%: $(CONTRACT_DIR)/allocs.c $(DEPS)
	@mkdir -p $(OUT)
	$(CC) $(WARN) $(if $(findstring asan-,$@),-O1 -g $(SAN),$(CFLAGS)) \
	  $(flag_$*) $(TAG) -DHARNESS_TAG='"allocs $*"' $(INCLUDES) -o $@ \
	  $(CONTRACT_DIR)/allocs.c $(MECH) $(CORE_SRCS) $(WRAP_ALLOC)

# Every binary runs, even after a failure, so that every check is reported.
run: $(BINS)
	@status=0; for b in $(BINS); do ./$$b || status=1; done; exit $$status

asan: $(ASAN_BINS)
	@status=0; for b in $(ASAN_BINS); do ./$$b || status=1; done; exit $$status

clean:
	rm -rf $(OUT)
