"""Write the hostile corpus (the .jsonl files beside this script) and expected.json, what each record must fail with.

Run from the repository root: ``.venv/bin/python connectors/fr-jsonl/tests/hostile/make_corpus.py``. The files
are committed; this script says how each was made. ``expected.json`` lists, per file, a fragment of the error
each record must raise, in order: null for a valid record, a list when the error must name several things.
"""

import datetime as dt
import json
from pathlib import Path
from typing import Any, cast

from gw_connector_fr_jsonl.codelists import Codes
from gw_connector_fr_jsonl.renderer import PARIS, encode, render_object

from gateway.connectors.base import Fact
from gateway.events import models as m
from gateway.testing import examples

codes = Codes.load()
T = m.EventType


# A valid referral: it has a person, an integer, a list of names and amounts to damage.
referral = cast(m.Payload, examples.payloads()[T.REINTEGRATION_REFERRAL])
moment = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
valid = encode(render_object(Fact("FR-2026-0000123", "7512345678", moment, referral), codes, PARIS))
out = Path(__file__).parent
exp: dict[str, list[Any]] = {}


def put(name: str, data: bytes, expected: list[Any]) -> None:
    (out / name).write_bytes(data)
    exp[name] = expected


def sub(old: bytes, new: bytes) -> bytes:
    assert old in valid, old
    return valid.replace(old, new, 1)


# After a valid line: a file whose first non-blank byte is "[" is read as a JSON array (tests/test_arrays.py).
put("recursion_bomb_arrays.jsonl", valid + b"\n" + b"[" * 5_000 + b"\n", [None, "nested deeper than"])
put("recursion_bomb_objects.jsonl", b'{"a":' * 5_000 + b"\n", ["nested deeper than"])
put("recursion_bomb_closed.jsonl", b"[" * 1_000 + b"]" * 1_000 + b"\n", ["nested deeper than"])
put(
    "recursion_bomb_in_field.jsonl",
    sub(b'"nom":"EL AMRANI"', b'"nom":' + b"[" * 500 + b"]" * 500) + b"\n",
    ["nested deeper than"],
)
put(
    "huge_exponent.jsonl",
    sub(b'"tailleFamille":1', b'"tailleFamille":1e999999') + b"\n",
    ["reinsertion.tailleFamille: input should be a valid integer"],
)
put(
    "tiny_exponent.jsonl",
    sub(b'"tailleFamille":1', b'"tailleFamille":1e-999999') + b"\n",
    ["reinsertion.tailleFamille: input should be a valid integer"],
)
put("huge_int.jsonl", sub(b'"tailleFamille":1', b'"tailleFamille":' + b"7" * 100_000) + b"\n", ["number out of range"])
put(
    "huge_int_in_amount.jsonl",
    sub(b'"montantEur":"1200.00"', b'"montantEur":' + b"9" * 5_000) + b"\n",
    ["number out of range"],
)
put(
    "nan_infinity.jsonl",
    b"\n".join(
        [
            sub(b'"tailleFamille":1', b'"tailleFamille":NaN'),
            sub(b'"tailleFamille":1', b'"tailleFamille":Infinity'),
            sub(b'"montantEur":"1200.00"', b'"montantEur":-Infinity'),
        ]
    )
    + b"\n",
    [
        "reinsertion.tailleFamille: input should be a valid integer",
        "reinsertion.tailleFamille: input should be a valid integer",
        "montantEur: amount must be a JSON string",
    ],
)
put(
    "invalid_utf8.jsonl",
    b"\n".join(
        sub(b'"EL AMRANI"', b'"EL ' + bad + b'AMRANI"')
        for bad in (b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe9", b"\xff", b"\xf4\x90\x80\x80")
    )
    + b"\n"
    + sub(b'"EL AMRANI"', b'"EL AMRANI\xe2\x82"')
    + b"\n",
    ["not valid UTF-8"] * 7,
)
put(
    "nul_bytes.jsonl",
    b"\n".join(
        [
            sub(b'"EL AMRANI"', b'"EL\x00AMRANI"'),
            sub(b'"EL AMRANI"', b'"EL\\u0000AMRANI"'),
            sub(b',"reinsertion"', b',\x00"reinsertion"'),
            valid + b"\x00",
        ]
    )
    + b"\n",
    ["NUL byte", "personne.nom: control character", "NUL byte", "NUL byte"],
)
put("bom_in_the_middle.jsonl", b"\xef\xbb\xbf" + valid + b"\n\xef\xbb\xbf" + valid + b"\n", [None, "byte-order mark"])
put("truncated_final_line.jsonl", valid + b"\n" + valid[: len(valid) // 2], [None, "truncated record"])
# Not first: a file whose first non-blank byte is "[" is read as one JSON array (tests/test_arrays.py).
put("not_an_object.jsonl", b'"FR-1"\n[]\n42\nnull\ntrue\n[' + valid + b"]\n", ["a record must be a JSON object"] * 6)
put("trailing_data.jsonl", valid + valid + b"\n" + valid + b" x\n" + valid + b",\n", ["trailing characters"] * 3)
put(
    "oversized_field.jsonl",
    sub(b'"EL AMRANI"', b'"' + b"A" * 2_000 + b'"') + b"\n",
    ["personne.nom: string should have at most 200 characters"],
)
put(
    "huge_array.jsonl",
    sub(b'"prenoms":["YOUSSEF"]', b'"prenoms":[' + b",".join([b'"A"'] * 1_000) + b"]") + b"\n",
    ["personne.prenoms: tuple should have at most 10 items"],
)
put(
    "many_unknown_keys.jsonl",
    valid[:-1] + b"".join(b',"k%d":%d' % (i, i) for i in range(1_000)) + b"}\n",
    [["k0: unknown key", "and 997 more problems"]],
)
put(
    "many_duplicate_keys.jsonl",
    valid[:-1] + b',"numeroDossier":"FR-1"' * 1_000 + b"}\n",
    ["duplicate key 'numeroDossier'"],
)
put("lone_surrogate.jsonl", sub(b'"EL AMRANI"', b'"EL \\ud800AMRANI"') + b"\n", ["invalid JSON"])
put(
    "control_character_in_key.jsonl",
    sub(b'"nom"', b'"n\\u0001om"') + b"\n",
    [["personne.'n\\x01om': unknown key", "personne.nom: required key missing"]],
)
put("unterminated_escapes.jsonl", b'{"nom":"' + b'\\"' * 5_000 + b"\n", ["truncated record"])
put("whitespace_bomb.jsonl", b" " * 10_000 + b"{}\n", ["typeEvenement: required key missing"])
put(
    "empty_and_odd_values.jsonl",
    b'{}\n{"typeEvenement":null}\n{"typeEvenement":{}}\n',
    ["typeEvenement: required key missing", "typeEvenement", "typeEvenement"],
)
# Split at its 0x0A bytes, a UTF-16 file falls apart into two "lines": both are marked.
put("utf16.jsonl", (valid.decode() + "\n").encode("utf-16"), ["UTF-16", "UTF-16"])
# Thousands of brackets, all inside a string: not nested, so the error is about the content, not the depth.
put("brackets_in_strings_only.jsonl", b'{"nom":"' + b"[{" * 5_000 + b'"}\n', ["typeEvenement: required key missing"])
(out / "expected.json").write_text(json.dumps(exp, indent=1, sort_keys=True) + "\n")
print(len(exp), sum((out / n).stat().st_size for n in exp) // 1024, "KiB")
