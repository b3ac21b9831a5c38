; Interrupt entry stubs: one per vector. Each pushes an error code (0 when the CPU pushes none) and the
; vector number, then the common path saves all general registers and the SSE state (fxsave) and calls
; the managed dispatcher KeelInterruptDispatch(InterruptFrame*). The frame layout is mirrored by
; kernel/Interrupts/InterruptFrame.cs.
bits 64
section .text
global keel_interrupt_stub_table
extern KeelInterruptDispatch

%macro STUB_NOERR 1
stub_%1:
    push 0
    push %1
    jmp interrupt_common
%endmacro
%macro STUB_ERR 1
stub_%1:
    push %1
    jmp interrupt_common
%endmacro

%assign v 0
%rep 256
  %if v == 8 || v == 10 || v == 11 || v == 12 || v == 13 || v == 14 || v == 17 || v == 21 || v == 29 || v == 30
    STUB_ERR v
  %else
    STUB_NOERR v
  %endif
  %assign v v + 1
%endrep

interrupt_common:
    push r15
    push r14
    push r13
    push r12
    push r11
    push r10
    push r9
    push r8
    push rbp
    push rdi
    push rsi
    push rdx
    push rcx
    push rbx
    push rax
    cld
    mov rbx, rsp                ; rbx (callee-saved) = frame
    sub rsp, 512
    and rsp, -16
    fxsave [rsp]
    mov rdi, rbx
    call KeelInterruptDispatch
    fxrstor [rsp]
    mov rsp, rbx
    pop rax
    pop rbx
    pop rcx
    pop rdx
    pop rsi
    pop rdi
    pop rbp
    pop r8
    pop r9
    pop r10
    pop r11
    pop r12
    pop r13
    pop r14
    pop r15
    add rsp, 16                 ; vector and error code
    iretq

section .rodata
align 8
keel_interrupt_stub_table:
%assign v 0
%rep 256
    dq stub_ %+ v
  %assign v v + 1
%endrep

section .text
global keel_interrupt_stub_address
; ulong keel_interrupt_stub_address(int vector)
keel_interrupt_stub_address:
    movsxd rdi, edi
    lea rax, [rel keel_interrupt_stub_table]
    mov rax, [rax + rdi * 8]
    ret
