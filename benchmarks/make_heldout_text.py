"""Build a held-out text set for ``end_to_end.py --suite heldout``: Debian package
descriptions labelled by section, with sections the development set (text_sections) does not
use, so the text defaults meet text they were never tuned on.

Reads the package and English description lists apt keeps; refresh them first, into a folder
of your own (no root needed beyond apt's usual permissions):

    mkdir -p /tmp/aptlists/partial
    apt-get update -o Acquire::Languages=en -o Dir::State::Lists=/tmp/aptlists
    python benchmarks/make_heldout_text.py /tmp/aptlists benchmarks/text_heldout.csv.gz

Up to 600 packages per section (seed 0); text = short and long description with the package
name removed; debug, documentation and data packages are left out.
"""

import csv
import glob
import gzip
import random
import re
import subprocess
import sys

SECTIONS = ("science", "games", "sound", "graphics", "net", "admin", "math", "x11")
PER_SECTION = 600


def stanzas(path):
    """Each ``Field: value`` stanza of an lz4-compressed apt list, continuation lines joined."""
    text = subprocess.run(["lz4cat", path], capture_output=True, text=True, check=True).stdout
    for block in text.split("\n\n"):
        fields, last = {}, None
        for line in block.splitlines():
            if line.startswith(" ") and last:
                fields[last] += "\n" + line[1:]
            elif ":" in line:
                last, _, value = line.partition(":")
                fields[last] = value.strip()
        yield fields


def descriptions(lists):
    """``{section: [description, ...]}`` for the wanted sections, one entry per package."""
    long = {}
    for path in glob.glob(f"{lists}/*Translation-en*"):
        for f in stanzas(path):
            if "Description-md5" in f and "Description-en" in f:
                long[f["Description-md5"]] = f["Description-en"]
    seen, by_section = set(), {s: set() for s in SECTIONS}
    for path in sorted(glob.glob(f"{lists}/*_Packages*")):
        for f in stanzas(path):
            section = f.get("Section", "").split("/")[-1]
            text = long.get(f.get("Description-md5"), f.get("Description"))
            name = f.get("Package", "")
            if section not in by_section or not text or name in seen or \
                    name.endswith(("-dbg", "-dbgsym", "-doc", "-data")):
                continue
            seen.add(name)
            text = re.sub(r"\n\.\n|\n\.$", "\n", text).replace("\n", " ")
            by_section[section].add(" ".join(re.sub(re.escape(name), " ", text,
                                                    flags=re.I).split()))
    return by_section


def main(lists, out):
    rng, rows = random.Random(0), []
    for section, texts in descriptions(lists).items():
        texts = sorted(texts)
        rng.shuffle(texts)
        rows += [(t, section) for t in texts[:PER_SECTION]]
    rng.shuffle(rows)
    with gzip.open(out, "wt", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "section"])
        writer.writerows(rows)
    print(f"{len(rows)} rows written to {out}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
