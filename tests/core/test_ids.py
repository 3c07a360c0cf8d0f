"""Identifiers are unique, and a forked worker never repeats its parent's random bytes."""

import os
import re

from api.core import ids


def test_ids_are_unique_opaque_and_url_safe():
    made = [ids.new_id("scn") for _ in range(5000)]
    assert len(set(made)) == len(made)
    assert all(re.fullmatch(r"scn_[A-Za-z0-9]{22}", i) for i in made)
    assert re.fullmatch(r"[0-9a-f]{32}", ids.request_id())


def test_a_forked_child_draws_its_own_bytes():
    ids.random_bytes(1)  # the parent holds a partly used buffer
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write_end, ids.random_bytes(16))
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read_end, 16)
    assert len(child) == 16 and child != ids.random_bytes(16)
