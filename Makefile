# Keel build. `make` builds build/keel.elf; `make run` boots it; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := all

BUILD      := build
DOTNET     ?= dotnet
ILC_VER    := 10.0.14
ILC        := $(HOME)/.nuget/packages/runtime.linux-x64.microsoft.dotnet.ilcompiler/$(ILC_VER)/tools/ilc
CSC        := $(DOTNET) $(wildcard $(dir $(shell readlink -f $$(command -v $(DOTNET))))sdk/*/Roslyn/bincore/csc.dll)
CSFLAGS    := -noconfig -nostdlib -unsafe -langversion:latest -runtimemetadataversion:v4.0.30319 \
              -nologo -optimize+ -deterministic -debug- -warnaserror+ -nowarn:CS0169,CS0649,CS8500,CS0436,CS1685,CS0414

CORELIB_SRC := $(shell find kernel/corelib -name '*.cs')
KERNEL_DIRS ?= kernel drivers net apps
KERNEL_SRC  := $(shell find $(KERNEL_DIRS) -name '*.cs' -not -path 'kernel/corelib/*' -not -path '*/bin/*' -not -path '*/obj/*')
ASM_SRC     := $(wildcard boot/*.asm)
ASM_OBJ     := $(patsubst boot/%.asm,$(BUILD)/boot/%.o,$(ASM_SRC))

ILCFLAGS := --targetos:linux --targetarch:x64 -O --systemmodule:System.Private.CoreLib \
            --reflectiondata:none --nativelib \
            --feature:System.Diagnostics.Debugger.IsSupported=false \
            --directpinvoke:keel

FORCE:

.PHONY: all setup run test unit-test qemu-test bench clean iso

all: $(BUILD)/keel.elf

setup:
	@tools/setup --quiet

# Builds and boots the kernel on a tap inside its own network namespace (root), serial console on this
# terminal. NET=user: QEMU's user-mode network instead, no root; prints the forwarded ports.
run: setup all
	@NET="$(NET)" NET_RESTRICT="$(NET_RESTRICT)" tools/run-keel

# Unit tests on the host, then QEMU boot/network tests; last line: "N passed, N failed".
test: setup
	@$(MAKE) --no-print-directory all || true
	@tools/run-tests

bench: setup all
	@tools/bench

$(BUILD)/System.Private.CoreLib.dll: $(CORELIB_SRC) | $(BUILD) $(ILC)
	$(CSC) $(CSFLAGS) -target:library -out:$@ $(CORELIB_SRC)

# The source list itself is a dependency: adding or removing a file rebuilds.
$(BUILD)/kernel-sources.txt: FORCE | $(BUILD)
	@echo "$(KERNEL_SRC)" | tr ' ' '\n' > $@.new; cmp -s $@.new $@ || mv $@.new $@; rm -f $@.new

$(BUILD)/keel.dll: $(KERNEL_SRC) $(BUILD)/kernel-sources.txt $(BUILD)/System.Private.CoreLib.dll
	$(CSC) $(CSFLAGS) -target:library -r:$(BUILD)/System.Private.CoreLib.dll -out:$@ $(KERNEL_SRC)

$(BUILD)/keel.o: $(BUILD)/keel.dll $(BUILD)/System.Private.CoreLib.dll
	$(ILC) $(BUILD)/keel.dll $(BUILD)/System.Private.CoreLib.dll -o $@ $(ILCFLAGS) --map:$(BUILD)/keel.map.xml

$(BUILD)/boot/%.o: boot/%.asm | $(BUILD)
	@mkdir -p $(BUILD)/boot
	nasm -f elf64 -o $@ $<

$(BUILD)/keel.elf: $(BUILD)/keel.o $(ASM_OBJ) boot/linker.ld
	ld.lld -static -nostdlib -z max-page-size=4096 --no-pie -T boot/linker.ld -o $@ $(ASM_OBJ) $(BUILD)/keel.o

$(BUILD):
	@mkdir -p $(BUILD)

$(ILC):
	@tools/setup --quiet

clean:
	rm -rf $(BUILD)
