; Keel boot entry, two ways into one kernel:
;  - PVH (QEMU -kernel on an ELF with a Xen PHYS32 entry note): pvh_start, 32-bit protected mode, paging off,
;    EBX = physical address of hvm_start_info.
;  - Multiboot2 (GRUB, BIOS or UEFI; the header below, entry address tag): mb2_start, 32-bit protected mode,
;    paging off, EAX = 0x36d76289, EBX = physical address of the multiboot2 information structure.
; Builds identity page tables for the first 4 GiB (page 0 left unmapped to catch null pointers,
; a guard page below the boot stack), enables PAE + long mode + SSE, loads a GDT with a TSS,
; and calls the managed entry point KeelMain(startInfo).

%define PAGE_PRESENT        1
%define PAGE_WRITABLE       2
%define PAGE_LARGE          0x80
%define CR0_MP              (1 << 1)
%define CR0_EM              (1 << 2)
%define CR0_TS              (1 << 3)
%define CR0_WP              (1 << 16)
%define CR0_PG              (1 << 31)
%define CR4_PAE             (1 << 5)
%define CR4_OSFXSR          (1 << 9)
%define CR4_OSXMMEXCPT      (1 << 10)
%define MSR_EFER            0xC0000080
%define EFER_LME            (1 << 8)
%define EFER_NXE            (1 << 11)
%define XEN_ELFNOTE_PHYS32_ENTRY 18
%define MB2_HEADER_MAGIC    0xE85250D6
%define MB2_ARCH_I386       0
%define BOOT_STACK_SIZE     (64 * 1024)
%define FAULT_STACK_SIZE    (16 * 1024)

extern KeelMain
global pvh_start
global mb2_start
extern __keel_bss_start, __keel_bss_end

global keel_boot_stack_top
global keel_boot_stack_guard
global keel_fault_stack_top
global keel_pml4
global keel_gdt
global keel_tss

section .note.Xen note alloc align=4
    dd 4                                ; name size ("Xen\0")
    dd 8                                ; descriptor size
    dd XEN_ELFNOTE_PHYS32_ENTRY
    db "Xen", 0
    dq pvh_start

; Multiboot2 header (Multiboot2 spec 3.1.1): must lie 8-byte aligned in the image's first 32 KiB.
section .multiboot2 progbits alloc align=8
mb2_header:
    dd MB2_HEADER_MAGIC
    dd MB2_ARCH_I386
    dd mb2_header_end - mb2_header
    dd -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    align 8
    dw 3, 0                             ; entry address tag: start in mb2_start (not the ELF entry)
    dd 12
    dd mb2_start
    align 8
    dw 0, 0                             ; end tag
    dd 8
mb2_header_end:

section .boot.text progbits alloc exec align=16
bits 32
mb2_start:
    cli
    cld
    mov esi, ebx                        ; multiboot2 information structure
    mov ebp, eax                        ; boot loader magic (0x36d76289) tells KeelMain which it is
    jmp boot_common

pvh_start:
    cli
    cld
    mov esi, ebx                        ; keep start_info
    xor ebp, ebp                        ; no multiboot2 magic: PVH
boot_common:

    ; PML4[0] -> PDPT
    mov eax, boot_pdpt
    or eax, PAGE_PRESENT | PAGE_WRITABLE
    mov [keel_pml4], eax

    ; PDPT[0..3] -> the four page directories
    mov ecx, 0
.pdpt_loop:
    mov eax, ecx
    shl eax, 12
    add eax, boot_pd
    or eax, PAGE_PRESENT | PAGE_WRITABLE
    mov [boot_pdpt + ecx * 8], eax
    inc ecx
    cmp ecx, 4
    jb .pdpt_loop

    ; 2048 x 2 MiB pages = 4 GiB identity map
    mov ecx, 0
.pd_loop:
    mov eax, ecx
    shl eax, 21
    or eax, PAGE_PRESENT | PAGE_WRITABLE | PAGE_LARGE
    mov [boot_pd + ecx * 8], eax
    mov edx, ecx
    shr edx, 11                         ; high dword: bits 32+ of the address
    mov [boot_pd + ecx * 8 + 4], edx
    inc ecx
    cmp ecx, 2048
    jb .pd_loop

    ; The first 2 MiB use 4 KiB pages so page 0 and the stack guard can be left out.
    mov ecx, 0
.pt_loop:
    mov eax, ecx
    shl eax, 12
    or eax, PAGE_PRESENT | PAGE_WRITABLE
    mov [boot_pt0 + ecx * 8], eax
    mov dword [boot_pt0 + ecx * 8 + 4], 0
    inc ecx
    cmp ecx, 512
    jb .pt_loop
    ; Page 0 stays mapped for now: QEMU puts the PVH start_info and memory map there. The kernel copies
    ; them and then unmaps page 0 (AddressSpace.UnmapNullPage) so null dereferences fault.
    mov eax, keel_boot_stack_guard
    shr eax, 12
    mov dword [boot_pt0 + eax * 8], 0   ; stack guard page: not present
    mov eax, boot_pt0
    or eax, PAGE_PRESENT | PAGE_WRITABLE
    mov [boot_pd], eax
    mov dword [boot_pd + 4], 0

    mov eax, cr4
    or eax, CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT
    mov cr4, eax
    mov eax, keel_pml4
    mov cr3, eax
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME | EFER_NXE
    wrmsr
    mov eax, cr0
    and eax, ~(CR0_EM | CR0_TS)
    or eax, CR0_PG | CR0_MP | CR0_WP
    mov cr0, eax

    lgdt [gdt_pointer]
    jmp 0x08:long_mode

bits 64
long_mode:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor ax, ax
    mov fs, ax
    mov gs, ax
    mov rsp, keel_boot_stack_top

    ; TSS descriptor (selector 0x18): base = keel_tss, limit = 103; IST1 = fault stack.
    mov rax, keel_fault_stack_top
    mov [keel_tss + 36], rax            ; IST1
    mov word [keel_tss + 102], 104      ; I/O map base = limit: no I/O bitmap
    mov rax, keel_tss
    mov rdi, keel_gdt + 0x18
    mov word [rdi], 103                 ; limit 15:0
    mov [rdi + 2], ax                   ; base 15:0
    shr rax, 16
    mov [rdi + 4], al                   ; base 23:16
    mov byte [rdi + 5], 0x89            ; present, 64-bit TSS (available)
    mov byte [rdi + 6], 0
    mov [rdi + 7], ah                   ; base 31:24
    shr rax, 16
    mov [rdi + 8], eax                  ; base 63:32
    mov dword [rdi + 12], 0
    mov ax, 0x18
    ltr ax

    ; Zero .bss: not every loader does (memsz beyond filesz).
    mov rdi, __keel_bss_start
    mov rcx, __keel_bss_end
    sub rcx, rdi
    shr rcx, 3
    xor eax, eax
    rep stosq

    fninit
    mov edi, esi                        ; start_info / multiboot2 information (zero-extended)
    mov esi, ebp                        ; boot loader magic (0 for PVH)
    xor ebp, ebp
    call KeelMain
.halt:
    cli
    hlt
    jmp .halt

section .boot.data progbits alloc write align=16
gdt_pointer:
    dw gdt_end - keel_gdt - 1
    dq keel_gdt
align 16
keel_gdt:
    dq 0                                ; 0x00 null
    dq 0x00AF9A000000FFFF               ; 0x08 64-bit code, ring 0
    dq 0x00CF92000000FFFF               ; 0x10 data, ring 0
    dq 0, 0                             ; 0x18 TSS (16 bytes, filled at boot)
gdt_end:
align 16
keel_tss:
    times 104 db 0

section .boot.bss nobits alloc write align=4096
keel_pml4:      resb 4096
boot_pdpt:      resb 4096
boot_pd:        resb 4 * 4096
boot_pt0:       resb 4096
keel_boot_stack_guard:
                resb 4096
keel_boot_stack_bottom:
                resb BOOT_STACK_SIZE
keel_boot_stack_top:
                resb FAULT_STACK_SIZE
keel_fault_stack_top:
