"""Make the mutants of the corpus: every operator at every site, sampled deterministically when capped."""

from __future__ import annotations

import ast
import multiprocessing
import random
import warnings
import zlib
from collections import Counter
from dataclasses import dataclass, field

import libcst as cst
from corpus import RealFile
from operators import Kind
from sourcetext import Applied, Mutation, Source, apply


@dataclass(frozen=True)
class Mutant:
    identifier: str
    kind: str
    original: RealFile
    applied: Applied
    snippet: str  # the mutated lines, for reports of misses


@dataclass
class Harvest:
    mutants: list[Mutant] = field(default_factory=list)
    sites: Counter[str] = field(default_factory=Counter)  # every applicable site, before capping
    discarded: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, why)
    unreadable: list[str] = field(default_factory=list)


def parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


def sample(mutations: list[Mutation], cap: int, seed: str) -> list[Mutation]:
    """At most `cap` sites, the same ones on every run (seeded by file and kind, not by time)."""
    if cap <= 0 or len(mutations) <= cap:
        return mutations
    chosen = random.Random(zlib.crc32(seed.encode())).sample(range(len(mutations)), cap)
    return [mutations[index] for index in sorted(chosen)]


def snippet_of(applied: Applied) -> str:
    lines = applied.text.splitlines()
    shown = [f"{n:5d} | {lines[n - 1]}" for n in applied.expected_lines[:4] if 0 < n <= len(lines)]
    return "\n".join(shown)


def harvest(files: list[RealFile], kinds: list[Kind], cap: int, jobs: int) -> Harvest:
    """All files' mutants, made in `jobs` processes (parsing with positions is most of the cost)."""
    work = [(real, kinds, cap) for real in files]
    with multiprocessing.Pool(jobs) as pool:
        parts = pool.starmap(harvest_file, work, chunksize=1)
    result = Harvest()
    for part in parts:
        result.mutants += part.mutants
        result.sites.update(part.sites)
        result.discarded.update(part.discarded)
        result.unreadable += part.unreadable
    return result


def harvest_file(real: RealFile, kinds: list[Kind], cap: int) -> Harvest:
    result = Harvest()
    try:
        source = Source(real.text)
    except cst.ParserSyntaxError as error:
        result.unreadable.append(f"{real.label}: {error.message}")
        return result
    for kind in kinds:
        unique = list(dict.fromkeys(kind.operator(source)))
        result.sites[kind.name] += len(unique)
        for number, mutation in enumerate(sample(unique, cap, f"{real.label}:{kind.name}")):
            applied = apply(source, mutation)
            if applied.text == real.text:
                result.discarded[(kind.name, "no-op")] += 1
            elif not parses(applied.text):
                result.discarded[(kind.name, "does not parse")] += 1
            else:
                identifier = f"{real.package}/{real.path}#{kind.name}.{number}"
                result.mutants.append(
                    Mutant(identifier, kind.name, real, applied, snippet_of(applied))
                )
    return result
