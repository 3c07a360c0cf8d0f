"""Identifiers are unique, each table's carry its own prefix, and a forked worker never repeats its parent's random
bytes."""

import os
import re

from api.applications.models import TimelineEntry
from api.citizens.models import Citizen, DisabilityRecord, PopulationRecord
from api.codes.models import CodeHolder
from api.core import ids
from api.core.models import AuditLog


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


def test_each_table_built_on_the_keyed_base_makes_ids_with_its_own_prefix():
    made = {model: model().id for model in (Citizen, PopulationRecord, DisabilityRecord, TimelineEntry, AuditLog)}
    assert [i.split("_")[0] for i in made.values()] == ["cit", "pop", "dis", "tle", "aud"]
    assert len(set(made.values())) == 5
    assert {"id", "created_at"} <= set(Citizen._meta.fields_map) and "created_at" not in TimelineEntry._meta.fields_map
    assert AuditLog._meta.fields_map["created_at"].index  # its own field, indexed: the log is read newest first
    assert "created_at" in CodeHolder._meta.fields_map and CodeHolder._meta.fields_map["id"].field_type is int


def test_ordered_ids_sort_by_the_millisecond_they_were_made_and_are_still_unique_and_unguessable(monkeypatch):
    clock = iter([1_796_000_000_000_000_000 + ms * 1_000_000 for ms in (5, 5, 5, 6, 900, 86_400_000)])
    monkeypatch.setattr(ids.time, "time_ns", lambda: next(clock))
    made = [ids.ordered_id("pop") for _ in range(6)]
    assert all(re.fullmatch(r"pop_[0-9a-f]{31}", i) and ids.ID_PATTERN.fullmatch(i) for i in made)
    assert len(set(made)) == 6 and len({i[4 + 11:] for i in made}) == 6  # 80 random bits each, even in one ms
    assert sorted(made[3:]) == made[3:] and max(made[:3]) < made[3]  # a later millisecond sorts after
    assert len({i[:4 + 11] for i in made[:3]}) == 1
    monkeypatch.undo()
    now = [ids.ordered_id("pop") for _ in range(5000)]
    assert len(set(now)) == 5000 and sorted(now)[0][:12] == now[0][:12]
