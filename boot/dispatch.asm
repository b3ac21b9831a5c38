; First (and, with the managed cache, every) call through an interface dispatch cell lands here.
; r11 = dispatch cell, rdi = this. Saves the argument registers and xmm0-7, asks the managed resolver
; (Keel.Runtime.InterfaceDispatch) for the target, restores everything and jumps to it.
bits 64
section .text
global RhpInitialDynamicInterfaceDispatch
global RhpInterfaceDispatch1, RhpInterfaceDispatch2, RhpInterfaceDispatch4, RhpInterfaceDispatch8
extern KeelResolveInterfaceDispatch

RhpInterfaceDispatch1:
RhpInterfaceDispatch2:
RhpInterfaceDispatch4:
RhpInterfaceDispatch8:
RhpInitialDynamicInterfaceDispatch:
    push rdi
    push rsi
    push rdx
    push rcx
    push r8
    push r9
    push r10                    ; 7 pushes + return address = 64 bytes: rsp is 16-aligned here
    sub rsp, 128
    movdqu [rsp + 0x00], xmm0
    movdqu [rsp + 0x10], xmm1
    movdqu [rsp + 0x20], xmm2
    movdqu [rsp + 0x30], xmm3
    movdqu [rsp + 0x40], xmm4
    movdqu [rsp + 0x50], xmm5
    movdqu [rsp + 0x60], xmm6
    movdqu [rsp + 0x70], xmm7
    mov rsi, r11
    call KeelResolveInterfaceDispatch
    movdqu xmm0, [rsp + 0x00]
    movdqu xmm1, [rsp + 0x10]
    movdqu xmm2, [rsp + 0x20]
    movdqu xmm3, [rsp + 0x30]
    movdqu xmm4, [rsp + 0x40]
    movdqu xmm5, [rsp + 0x50]
    movdqu xmm6, [rsp + 0x60]
    movdqu xmm7, [rsp + 0x70]
    add rsp, 128
    pop r10
    pop r9
    pop r8
    pop rcx
    pop rdx
    pop rsi
    pop rdi
    jmp rax
