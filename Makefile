# Keel build. `make` builds build/keel.elf; `make run` boots it; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := all

BUILD      := build
DOTNET     ?= dotnet
ILC_VER    := 10.0.14
ILC        := $(HOME)/.nuget/packages/runtime.linux-x64.microsoft.dotnet.ilcompiler/$(ILC_VER)/tools/ilc
CSC        := $(DOTNET) $(wildcard $(dir $(shell readlink -f $$(command -v $(DOTNET))))sdk/*/Roslyn/bincore/csc.dll)
CSFLAGS    := -noconfig -nostdlib -unsafe -langversion:latest -runtimemetadataversion:v4.0.30319 \
              -nologo -optimize+ -deterministic -debug- -warnaserror+ -nowarn:CS8500,CS0436,CS1685

CORELIB_SRC := $(shell find kernel/corelib -name '*.cs')
# The layers (docs/ARCHITECTURE.md), lowest first; each compiles to its own assembly against the corelib and
# the layers it may use, so a wrong dependency fails to compile here as in the host projects (projects/).
# ILC then compiles every assembly into one object.
layer_src = $(shell find $(1) -name '*.cs' -not -path '*/bin/*' -not -path '*/obj/*' | sort)
HAL_SRC      := $(call layer_src,drivers/Hal drivers/Buffers drivers/Net)
VIRTIO_SRC   := $(call layer_src,drivers/Virtio)
VIRTIONET_SRC:= $(call layer_src,drivers/VirtioNet)
VIRTIORNG_SRC:= $(call layer_src,drivers/VirtioRng)
NET_SRC      := $(call layer_src,net)
APPS_SRC     := $(call layer_src,apps)
PORTABLE_SRC := $(call layer_src,kernel/portable)
KERNEL_SRC   := $(shell find kernel -name '*.cs' -not -path 'kernel/corelib/*' -not -path 'kernel/portable/*' -not -path '*/bin/*' -not -path '*/obj/*' | sort)
LAYERS       := hal virtio virtionet virtiorng net apps portable
LAYER_DLLS   := $(patsubst %,$(BUILD)/layers/%.dll,$(LAYERS))
ASM_SRC     := $(wildcard boot/*.asm)
ASM_OBJ     := $(patsubst boot/%.asm,$(BUILD)/boot/%.o,$(ASM_SRC))

ILCFLAGS := --targetos:linux --targetarch:x64 -O --systemmodule:System.Private.CoreLib \
            --reflectiondata:none --nativelib \
            --feature:System.Diagnostics.Debugger.IsSupported=false \
            --directpinvoke:keel

FORCE:

.PHONY: all help setup run test unit-test qemu-test bench clean iso pack check-layers fuzz
# A recipe that fails leaves no half-written target behind.
.DELETE_ON_ERROR:

all: $(BUILD)/keel.elf ## builds build/keel.elf (also plain `make`)

# Every target with its one line: the text after `##` on its rule line.
help: ## lists every target with one line each
	@sed -n -E 's/^([a-z-]+):.*## (.*)$$/\1\t\2/p' $(firstword $(MAKEFILE_LIST)) | \
	  while IFS=$$'\t' read -r target what; do printf '  make %-13s %s\n' "$$target" "$$what"; done

setup: ## installs the Debian packages and restores the NativeAOT compiler (tools/setup)
	@tools/setup --quiet

# Builds and boots the kernel on a tap inside its own network namespace (root), serial console on this
# terminal. NET=user: QEMU's user-mode network instead, no root; prints the forwarded ports; FWD adds
# forwards (tools/run-keel). MACHINE=microvm (or microvm,acpi=off, any -M value): that machine instead of q35.
# After `exit 0` make succeeds; after `exit N` (N != 0) it fails ("Error N").
run: setup all ## boots Keel, console here: on a tap (root), or NET=user [FWD=tcp:7119-:19]; MACHINE=microvm (tools/run-keel)
	@NET="$(NET)" NET_RESTRICT="$(NET_RESTRICT)" FWD="$(FWD)" MACHINE="$(MACHINE)" tools/run-keel

# Build (a failed kernel build fails the run and no QEMU test runs), unit tests on the host, then the
# QEMU boot/network tests; last line: "N passed, N failed". See tools/run-tests.
test: setup ## every test: build, checks, unit, docs, QEMU, packages; last line "N passed, N failed"
	@tools/run-tests

# Only the host unit tests (NUnit, tests/Keel.Tests).
unit-test: setup ## only the host unit tests and the doc examples
	@tools/run-tests unit

# Only the build and the QEMU tests (tests/Keel.BootTests).
qemu-test: setup ## only the build step and the QEMU tests
	@tools/run-tests qemu

# A GRUB image (BIOS and UEFI) that boots build/keel.elf through multiboot2: build/keel.iso.
iso: setup $(BUILD)/keel.iso ## build/keel.iso: GRUB (BIOS and UEFI) booting build/keel.elf

$(BUILD)/keel.iso: $(BUILD)/keel.elf boot/grub.cfg
	@rm -rf $(BUILD)/iso && mkdir -p $(BUILD)/iso/boot/grub
	cp $(BUILD)/keel.elf $(BUILD)/iso/boot/keel.elf
	cp boot/grub.cfg $(BUILD)/iso/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(BUILD)/iso >$(BUILD)/grub-mkrescue.log 2>&1 || { cat $(BUILD)/grub-mkrescue.log; exit 1; }

# NuGet packages in build/nuget/: Keel.Net (HAL, buffers, virtio, virtio-net, the IPv4 stack) and Keel.Apps.
# Their version (tools/pack-version) changes with the packed code, so no NuGet cache serves an older copy
# under it; build/nuget/version holds the last one (tools/hoststack reads it).
pack: ## NuGet packages Keel.Net and Keel.Apps in build/nuget/ (their version changes with the code)
	@mkdir -p $(BUILD)/nuget
	$(eval PACK_VERSION := $(shell tools/pack-version))
	$(DOTNET) pack projects/Keel.Net/Keel.Net.csproj -c Release -o $(BUILD)/nuget -nologo -v q -p:Version=$(PACK_VERSION)
	$(DOTNET) pack projects/Keel.Apps/Keel.Apps.csproj -c Release -o $(BUILD)/nuget -nologo -v q -p:Version=$(PACK_VERSION)
	@echo $(PACK_VERSION) > $(BUILD)/nuget/version
	@echo "pack: Keel.Net and Keel.Apps $(PACK_VERSION) in $(BUILD)/nuget/"

# Coverage-guided fuzzing (AFL++ and SharpFuzz, docs/fuzzing.md): every target FUZZ_SECONDS each (default 60),
# as many at once as there are cores; TARGET=name runs one. Prints executions, exec/s, paths, edges, crashes, hangs.
fuzz: setup ## fuzzes every parser the wire or the device reaches (FUZZ_SECONDS=, TARGET=; docs/fuzzing.md)
	@FUZZ_SECONDS="$(FUZZ_SECONDS)" TARGET="$(TARGET)" tools/fuzz

bench: setup all ## the benchmarks (docs/BENCHMARKS.md)
	@tools/bench

$(BUILD)/System.Private.CoreLib.dll: $(CORELIB_SRC) | $(BUILD) $(ILC)
	$(CSC) $(CSFLAGS) -target:library -out:$@ $(CORELIB_SRC)

# Each source list is a dependency: adding or removing a file rebuilds its layer.
.PRECIOUS: $(BUILD)/layers/%-sources.txt
$(BUILD)/layers/%-sources.txt: FORCE | $(BUILD)
	@mkdir -p $(BUILD)/layers
	@echo "$($(shell echo $* | tr a-z A-Z)_SRC)" | tr ' ' '\n' > $@.new; cmp -s $@.new $@ || mv $@.new $@; rm -f $@.new

CORELIB_REF := -r:$(BUILD)/System.Private.CoreLib.dll
# What each layer may use (the host projects in projects/ reference the same).
HAL_REFS       :=
VIRTIO_REFS    := hal
VIRTIONET_REFS := hal virtio
VIRTIORNG_REFS := hal virtio
NET_REFS       := hal
APPS_REFS      := hal net
PORTABLE_REFS  := hal net apps
upper = $(shell echo $(1) | tr a-z A-Z)
# $(call layer_dll,NAME): the command line that compiles one layer against the corelib and its REFS.
layer_dll = $(CSC) $(CSFLAGS) -target:library $(CORELIB_REF) $(patsubst %,-r:$(BUILD)/layers/%.dll,$($(call upper,$(1))_REFS)) \
            -out:$(BUILD)/layers/$(1).dll $($(call upper,$(1))_SRC)

.SECONDEXPANSION:
$(BUILD)/layers/%.dll: $$($$(call upper,$$*)_SRC) $(BUILD)/layers/%-sources.txt \
                      $$(addprefix $(BUILD)/layers/,$$(addsuffix .dll,$$($$(call upper,$$*)_REFS))) $(BUILD)/System.Private.CoreLib.dll
	$(call layer_dll,$*)

# Each layer compiled with a use of a type from a layer it must not see must fail (tools/check-layers).
check-layers: $(LAYER_DLLS) ## shows that no layer can use a layer it must not see
	@tools/check-layers $(BUILD) "$(CSC) $(CSFLAGS) -target:library $(CORELIB_REF)" \
	  hal="$(HAL_REFS)" virtio="$(VIRTIO_REFS)" virtionet="$(VIRTIONET_REFS)" virtiorng="$(VIRTIORNG_REFS)" net="$(NET_REFS)" \
	  apps="$(APPS_REFS)" portable="$(PORTABLE_REFS)"

# The kernel proper sits on every layer.
$(BUILD)/keel.dll: $(KERNEL_SRC) $(BUILD)/layers/kernel-sources.txt $(LAYER_DLLS)
	$(CSC) $(CSFLAGS) -target:library $(CORELIB_REF) $(patsubst %,-r:%,$(LAYER_DLLS)) -out:$@ $(KERNEL_SRC)

$(BUILD)/keel.o: $(BUILD)/keel.dll $(LAYER_DLLS) $(BUILD)/System.Private.CoreLib.dll
	$(ILC) $(BUILD)/keel.dll $(LAYER_DLLS) $(BUILD)/System.Private.CoreLib.dll -o $@ $(ILCFLAGS) --map:$(BUILD)/keel.map.xml

$(BUILD)/boot/%.o: boot/%.asm | $(BUILD)
	@mkdir -p $(BUILD)/boot
	nasm -f elf64 -o $@ $<

# The build id (tools/build-id: a hash of everything linked) is printed at boot and checked by the boot tests.
# -z norelro: one RW segment with .bss at its end (GRUB's EFI loader fails on a segment with no file bytes).
KERNEL_LDFLAGS := -static -nostdlib -z max-page-size=4096 -z norelro --no-pie
$(BUILD)/keel.elf: $(BUILD)/keel.o $(ASM_OBJ) boot/linker.ld tools/build-id
	tools/build-id $(BUILD)/buildid.o "$(KERNEL_LDFLAGS)" $(BUILD)/keel.o $(ASM_OBJ) boot/linker.ld
	ld.lld $(KERNEL_LDFLAGS) -T boot/linker.ld -o $@ $(ASM_OBJ) $(BUILD)/buildid.o $(BUILD)/keel.o

$(BUILD):
	@mkdir -p $(BUILD)

$(ILC):
	@tools/setup --quiet

clean: ## removes build/
	rm -rf $(BUILD)
