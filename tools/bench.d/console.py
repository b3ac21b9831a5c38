#!/usr/bin/env python3
"""tools/bench.d/console.py SOCK CMD [CMD...]: run Keel shell commands over the serial console.

Connects to QEMU's serial chardev (a listening unix socket), sends each command followed by CR,
and prints what the guest answers up to the next 'keel> ' prompt. Each command's output is
preceded by a line '### CMD'. Gives up on a command after --timeout seconds (default 10) and
exits 1 then. Used by tools/bench; no network involved.
"""
import socket, sys, time

def main():
    args = sys.argv[1:]
    timeout = 10.0
    if len(args) >= 2 and args[0] == "--timeout":
        timeout = float(args[1]); args = args[2:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr); return 2
    path, cmds = args[0], args[1:]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    deadline = time.time() + timeout
    while True:
        try:
            s.connect(path); break
        except OSError:
            if time.time() > deadline:
                print("console: cannot connect to " + path, file=sys.stderr); return 1
            time.sleep(0.1)
    s.settimeout(0.2)
    prompt = b"keel> "

    def read_until_prompt(limit):
        buf = b""
        end = time.time() + limit
        while time.time() < end:
            try:
                d = s.recv(65536)
                if not d:
                    break
                buf += d
                if buf.rstrip(b" ").endswith(b"keel>") or buf.endswith(prompt):
                    return buf, True
            except socket.timeout:
                pass
        return buf, False

    # Sync: an empty line gives a fresh prompt.
    s.sendall(b"\r")
    _, ok = read_until_prompt(timeout)
    if not ok:
        print("console: no prompt", file=sys.stderr); return 1
    rc = 0
    for c in cmds:
        s.sendall(c.encode() + b"\r")
        out, ok = read_until_prompt(timeout)
        text = out.decode("ascii", "replace").replace("\r", "")
        lines = text.split("\n")
        # drop the echoed command line and the trailing prompt
        if lines and lines[0].strip().endswith(c.strip()):
            lines = lines[1:]
        if lines and lines[-1].strip() in ("keel>", ""):
            lines = lines[:-1]
        print("### " + c)
        for l in lines:
            print(l)
        if not ok:
            print("console: no prompt after '%s'" % c, file=sys.stderr); rc = 1; break
    s.close()
    return rc

if __name__ == "__main__":
    sys.exit(main())
