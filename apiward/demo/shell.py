"""A pretend shell for the ping tool: command injection without ever running a command.

The vulnerable tool builds ``ping -c 1 <host>`` as a string, as real code does before
handing it to ``sh -c``. Here the string is interpreted by a toy shell that knows a
handful of commands, so injected ``; id`` or ``; sleep 2`` show their usual signals
(output, delay) while nothing is executed. Sleeps add up to at most two seconds.
"""

from __future__ import annotations

import re

from apiward.demo.files import read_file

MAX_SLEEP = 2.0
_SEPARATOR = re.compile(r";|&&|\|\||\||\n|`|\$\(")
_HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[?[0-9A-Fa-f:.]+\]?")


def valid_host(host: str) -> bool:
    """A host name or an IP address, nothing else (the secure tool's check)."""
    return _HOSTNAME.fullmatch(host) is not None


def ping_output(host: str) -> str:
    return (
        f"PING {host} ({host}): 56 data bytes\n"
        f"64 bytes from {host}: icmp_seq=0 ttl=64 time=0.042 ms\n\n"
        f"--- {host} ping statistics ---\n"
        "1 packets transmitted, 1 packets received, 0.0% packet loss\n"
    )


def run(command_line: str) -> tuple[str, float]:
    """Interpret ``command_line``: (what it would print, seconds it would sleep)."""
    output: list[str] = []
    slept = 0.0
    for segment in _SEPARATOR.split(command_line):
        words = segment.strip().strip(")`").split()
        if not words:
            continue
        name, args = words[0], words[1:]
        if name == "sleep":
            slept = min(MAX_SLEEP, slept + _seconds(args))
        else:
            output.append(_command(name, args))
    return "".join(output), slept


def _command(name: str, args: list[str]) -> str:
    if name == "ping":
        return ping_output(args[-1] if args else "localhost")
    if name == "echo":
        return " ".join(args) + "\n"
    if name == "id":
        return "uid=33(www-data) gid=33(www-data) groups=33(www-data)\n"
    if name == "whoami":
        return "www-data\n"
    if name == "uname":
        return "Linux demobank 6.1.0-18-amd64 #1 SMP x86_64 GNU/Linux\n"
    if name == "cat" and args:
        content = read_file(args[0])
        return content if content is not None else f"cat: {args[0]}: No such file or directory\n"
    return f"sh: 1: {name}: not found\n"


def _seconds(args: list[str]) -> float:
    try:
        return max(0.0, float(args[0])) if args else 0.0
    except ValueError:
        return 0.0
