"""Resolve a free-text place to administrative units and the communes they cover, and explain the answer.

How a text is read, left to right, always taking the longest name that matches:

* level words steer the choice: "ville de", "commune de" (commune), "CC", "CA", "CU", "communauté de communes /
  d'agglomération", "communauté urbaine" (EPCI), "arrondissement de", "département de", "région"; articles after them
  ("du", "de la", "l'") are skipped, "du" and "des" also tried as "le"/"les" (Ville du Quesnoy -> Le Quesnoy);
* names are folded (accents, case, hyphens, apostrophes, "St"), so "HENIN CARVIN" finds the CA d'Hénin-Carvin;
* pays names come from the documented alias table (``data/geocoder/pays.yaml``) and are reported as such;
* homonyms (Senlis in the Oise or in the Pas-de-Calais) are decided by a département named in the text or in the
  context, else by population, and the note says which rule decided; a département in brackets after a name,
  "Senlis (Oise)", or after a comma, "Compiègne, Oise", only says where the place is: it is not a unit of its own;
* "Sud du département du Nord": the direction is kept as a note and the whole unit returned with lower confidence;
* neighbours are read from the communes' borders (two communes touch when they share a border line):
  "X et communes limitrophes", "X et alentours", "autour de X" return X and the communes touching it;
  "X et communes limitrophes de A et de B" returns X and the communes of A and B that touch X (with nothing named
  before, the communes touching A and B); the added communes are returned one by one, and a note lists them;
* a five-digit postcode returns every commune using it (a note lists them when there are several); EPCI initials
  ("CAPH") and names written joined or split ("Grand Soissons") are found too (see ``gazetteer``);
* "64 communes dans le Sud-Artois": the count is checked against the communes found, and the note says if it agrees;
* what is left unmatched is tried against every name with a similarity threshold (misspellings), else reported in
  ``unresolved``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from geo_service.geocoding.gazetteer import ARTICLES, Entry, Gazetteer, Unit
from geo_service.geocoding.text import Token, normalize, tokenize

MAX_QUERY_LENGTH = 500

# Level words; the longest that matches at a position wins.
LEVEL_WORDS: dict[tuple[str, ...], str] = {
    ("communaute", "de", "communes"): "epci",
    ("communaute", "d", "agglomeration"): "epci",
    ("communaute", "urbaine"): "epci",
    ("agglomeration",): "epci",
    ("intercommunalite",): "epci",
    ("cc",): "epci",
    ("ca",): "epci",
    ("cu",): "epci",
    ("agglo",): "epci",
    ("epci",): "epci",
    ("ville",): "commune",
    ("commune",): "commune",
    ("arrondissement",): "arrondissement",
    ("departement",): "departement",
    ("dept",): "departement",
    ("region",): "region",
    ("pays",): "pays",
}
_MAX_LEVEL_WORDS = max(len(words) for words in LEVEL_WORDS)
# Implied articles: "du Quesnoy" is "de Le Quesnoy".
CONTRACTIONS = {"du": "le", "au": "le", "des": "les", "aux": "les"}
DIRECTIONS = frozenset({"nord", "sud", "est", "ouest", "centre"})
SURROUNDINGS = frozenset({"alentours", "environs"})
NEIGHBOURS = frozenset({"limitrophe", "limitrophes", "voisine", "voisines", "riveraines"})
AROUND = frozenset({"autour"})
OF_WORDS = frozenset({"de", "du", "des", "d", "a", "au", "aux"})
# How a match takes part in a neighbour phrase.
PLUS_NEIGHBOURS = "plus_neighbours"  # X and the communes touching X
TOUCHING = "touching"  # the communes of X that touch the places named before (or, with none, those touching X)
LIST_WORDS = frozenset({"et", "ou"})
# Words that carry no place by themselves: a fragment made only of these is not reported as unresolved.
FILLERS = (
    ARTICLES
    | LIST_WORDS
    | frozenset(
        {
            "a",
            "au",
            "aux",
            "en",
            "dans",
            "sur",
            "sa",
            "son",
            "ses",
            "tout",
            "toute",
            "tous",
            "toutes",
            "ensemble",
            "commune",
            "communes",
            "ville",
            "territoire",
            "territoires",
            "secteur",
            "zone",
            "zones",
            "autour",
            "pres",
        }
    )
)
UNMAPPED_TERMS = {
    "qpv": "quartiers prioritaires (QPV) are not mapped: the communes that contain them are returned",
    "quartiers": "quartiers are not mapped: the communes that contain them are returned",
    "rurales": "'communes rurales' is not a list: the rural class of each commune comes from the coverage rule",
}
LEVEL_ORDER = ("commune", "departement", "region", "epci", "arrondissement")
FUZZY_MIN_SCORE = 82.0
FUZZY_MIN_SCORE_SHORT = 88.0  # below FUZZY_LONG letters one typo weighs more: 'Amein' is not 'Camelin'
FUZZY_LONG = 8
FUZZY_MIN_LENGTH = 5
_COUNT = re.compile(r"\b(\d{1,4}) communes?\b")

MAX_LISTED = 40  # communes named in a note before "and N more"
CONFIDENCE = {"name": 1.0, "epci_core": 0.95, "acronym": 0.9, "postcode": 0.9, "alias": 0.85}
NEIGHBOUR_CONFIDENCE = 0.8
BY_CONTEXT = 0.9
BY_POPULATION = 0.7
NARROWED = 0.6


@dataclass(frozen=True)
class ResolvedUnit:
    level: str
    code: str
    name: str
    confidence: float
    matched: str


@dataclass
class GeocodeResult:
    query: str
    units: list[ResolvedUnit] = field(default_factory=list)
    communes: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "query": self.query,
            "units": [vars(u) for u in self.units],
            "communes": self.communes,
            "unresolved": self.unresolved,
            "notes": self.notes,
        }


@dataclass
class _Match:
    entries: list[Entry]
    start: int  # character offsets in the query
    end: int
    level_word: str | None
    narrowed_by: str | None
    in_brackets: bool
    role: str | None = None  # PLUS_NEIGHBOURS or TOUCHING, in a neighbour phrase
    phrase: str | None = None  # that phrase, as written


@dataclass(frozen=True)
class _Chosen:
    entry: Entry
    confidence: float
    matched: str
    role: str | None = None
    phrase: str | None = None


@dataclass
class _Scan:
    matches: list[_Match] = field(default_factory=list)
    leftovers: list[tuple[int, int]] = field(default_factory=list)  # character spans
    notes: list[str] = field(default_factory=list)
    # neighbour phrase under way: the role it gives the next matches, and the phrase as written (None: "autour de",
    # whose phrase runs from phrase_start to the end of the one name it applies to)
    role: str | None = None
    phrase: str | None = None
    phrase_start: int = 0


class Geocoder:
    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        self._fuzzy_keys = list(gazetteer.names)

    def geocode(self, query: str, context: str | None = None) -> GeocodeResult:
        result = GeocodeResult(query=query)
        scan = self._scan(query)
        result.notes.extend(scan.notes)
        context_departements = self._departements_named(context) if context else set()
        chosen = self._choose(scan.matches, query, context_departements, result.notes)
        leftovers = [query[a:b] for a, b in scan.leftovers]
        for fragment in leftovers:
            found = self._fuzzy(fragment, result.notes)
            if found is None:
                result.unresolved.append(fragment)
            else:
                chosen.append(found)
        self._finish(result, chosen, query)
        return result

    # -- reading the text -----------------------------------------------------------------------------------------

    def _longest(self, words: list[str], i: int) -> tuple[int, list[Entry]]:
        """Length (in words) and entries of the longest name starting at word ``i`` (0 when none)."""
        for length in range(min(self.gazetteer.max_words, len(words) - i), 0, -1):
            key = " ".join(words[i : i + length])
            entries = self.gazetteer.lookup(key) or self.gazetteer.lookup_compact(key)
            if entries:
                return length, entries
        return 0, []

    def _after_level_word(self, words: list[str], i: int) -> tuple[int, int, list[Entry]]:
        """Skip articles after a level word, then find a name; 'du X' is also tried as 'le X'.

        Returns the name's first and end word positions and its entries (no entries when nothing matches).
        """
        j = i
        while j < len(words) and words[j] in ARTICLES:
            length, entries = self._longest(words, j)
            if length > 1:
                return j, j + length, entries  # a name that starts with its article: La Neuville-sur-Oudeuil
            implied = CONTRACTIONS.get(words[j])
            if implied and j + 1 < len(words):
                length, entries = self._longest([*words[: j + 1], implied, *words[j + 1 :]], j + 1)
                if length > 1:
                    return j, j + length, entries  # the implied article stands in for the contraction
            j += 1
        length, entries = self._longest(words, j)
        return j, j + length, entries

    def _level_word(self, words: list[str], i: int) -> tuple[str | None, int]:
        for size in range(min(_MAX_LEVEL_WORDS, len(words) - i), 0, -1):
            level = LEVEL_WORDS.get(tuple(words[i : i + size]))
            if level:
                return level, i + size
        return None, i

    def _scan(self, query: str) -> _Scan:
        tokens = tokenize(query)
        scan = _Scan()
        segments: list[list[Token]] = [[]]
        for token in tokens:
            if token.is_separator:
                segments.append([token])
            else:
                segments[-1].append(token)
        for segment in segments:
            self._scan_segment(segment, scan, query)
        return scan

    def _add_match(self, scan: _Scan, match: _Match, query: str) -> None:
        """Record a match, giving it the role of the neighbour phrase under way ("autour de" holds for one name)."""
        if scan.role is not None:
            match.role = scan.role
            match.phrase = scan.phrase if scan.phrase is not None else query[scan.phrase_start : match.end]
            if scan.phrase is None:
                scan.role = None
        scan.matches.append(match)

    def _neighbour_words(self, tokens: list[Token], words: list[str], i: int, scan: _Scan, query: str) -> bool:
        """Read 'communes limitrophes (de ...)', 'alentours', 'autour de' at word ``i``; False if it is none."""
        followed = i + 1 < len(words) and words[i + 1] in OF_WORDS
        if words[i] in NEIGHBOURS and followed:
            # "communes limitrophes de A et de B": the names that follow say which communes touch the places before
            first = i - 1 if i > 0 and words[i - 1] in {"commune", "communes"} else i
            scan.role, scan.phrase = TOUCHING, query[tokens[first].start : tokens[-1].end]
            return True
        if words[i] in AROUND | SURROUNDINGS and followed:
            # "autour de Y", "aux alentours de Y": Y and the communes touching it
            scan.role, scan.phrase, scan.phrase_start = PLUS_NEIGHBOURS, None, tokens[i].start
            return True
        if words[i] in NEIGHBOURS | SURROUNDINGS:
            # "X et communes limitrophes", "X et alentours": the places named before, and their neighbours
            first = i - 1 if i > 0 and words[i - 1] in {"commune", "communes"} else i
            phrase = query[tokens[first].start : tokens[i].end]
            before = [m for m in scan.matches if m.role is None]
            for match in before:
                match.role, match.phrase = PLUS_NEIGHBOURS, phrase
            if not before:
                scan.leftovers.append((tokens[first].start, tokens[i].end))
                scan.notes.append(f"'{phrase}': no place is named before it, so there are no neighbours to add")
            return True
        return False

    def _scan_segment(self, segment: list[Token], scan: _Scan, query: str) -> None:
        in_brackets = bool(segment) and segment[0].norm == "("
        tokens = [t for t in segment if not t.is_separator]
        words = [t.norm for t in tokens]
        i, pending = 0, []  # pending: unmatched tokens since the last match
        narrowed_by: str | None = None
        while i < len(words):
            if words[i] in NEIGHBOURS | SURROUNDINGS | AROUND and self._neighbour_words(tokens, words, i, scan, query):
                self._flush(tokens, pending, scan)
                pending = []
                i += 1
                continue
            direct, entries = self._longest(words, i)
            level, after_word = self._level_word(words, i)
            first, end, hinted = self._after_level_word(words, after_word) if level else (i, i, [])
            if level and hinted and end > i + direct:
                self._flush(tokens, pending, scan)
                pending = []
                self._add_match(
                    scan,
                    _Match(hinted, tokens[first].start, tokens[end - 1].end, level, narrowed_by, in_brackets),
                    query,
                )
                narrowed_by, i = None, end
                continue
            if direct and not (direct == 1 and self._is_direction(words, i)):
                self._flush(tokens, pending, scan)
                pending = []
                self._add_match(
                    scan,
                    _Match(entries, tokens[i].start, tokens[i + direct - 1].end, None, narrowed_by, in_brackets),
                    query,
                )
                narrowed_by, i = None, i + direct
                continue
            if self._is_direction(words, i):
                narrowed_by = _span(tokens, i, i + 2)
                self._flush(tokens, pending, scan)
                pending = []
                i += 1
                continue
            if words[i] in LIST_WORDS:
                self._flush(tokens, pending, scan)
                pending = []
            else:
                pending.append(i)
            i += 1
        self._flush(tokens, pending, scan)

    @staticmethod
    def _is_direction(words: list[str], i: int) -> bool:
        return words[i] in DIRECTIONS and i + 1 < len(words) and words[i + 1] in {"de", "du", "des", "d"}

    @staticmethod
    def _flush(tokens: list[Token], pending: list[int], scan: _Scan) -> None:
        """Record the unmatched run, trimmed of fillers; a run of fillers only is dropped."""
        meaningful = [i for i in pending if tokens[i].norm not in FILLERS and not tokens[i].norm.isdigit()]
        if not meaningful:
            return
        kept = [i for i in pending if tokens[i].norm not in ARTICLES | LIST_WORDS]
        scan.leftovers.append((tokens[kept[0]].start, tokens[kept[-1]].end))
        for i in meaningful:
            note = UNMAPPED_TERMS.get(tokens[i].norm)
            if note and note not in scan.notes:
                scan.notes.append(note)

    def _departements_named(self, text: str) -> set[str]:
        scan = self._scan(text)
        return {
            e.unit.departement or e.unit.code
            for m in scan.matches
            for e in m.entries
            if e.unit.level != "region" and (e.unit.level == "departement" or len(m.entries) == 1)
        }

    # -- choosing units -------------------------------------------------------------------------------------------

    def _choose(self, matches: list[_Match], query: str, context_deps: set[str], notes: list[str]) -> list[_Chosen]:
        candidates = [self._by_level(m, query, notes) for m in matches]
        named = {
            c[0].unit.departement or c[0].unit.code
            for c in candidates
            if len({e.unit.code for e in c}) == 1 and c[0].unit.level != "region"
        }
        chosen: list[_Chosen] = []
        previous_end = 0
        for match, entries in zip(matches, candidates, strict=True):
            matched = query[match.start : match.end]
            if self._qualifies_previous(match, entries, chosen, query[previous_end : match.start]):
                notes.append(f"'{matched}' is read as the département of the name before it, not as a place")
                continue
            previous_end = match.end
            pick, confidence = self._pick_homonym(entries, matched, named | context_deps, bool(context_deps), notes)
            if match.narrowed_by:
                confidence *= NARROWED
                notes.append(
                    f"'{match.narrowed_by}' narrows {pick[0].unit.name}, which has no finer unit here: "
                    f"the whole {pick[0].unit.level} is returned"
                )
            for entry in pick:
                chosen.append(_Chosen(entry, confidence, matched, match.role, match.phrase))
        return chosen

    @staticmethod
    def _qualifies_previous(match: _Match, entries: list[Entry], chosen: list, gap: str) -> bool:
        """'Senlis (Oise)', 'Compiègne, Oise': a département right after a place only says where that place is."""
        if match.level_word or not all(e.unit.level == "departement" for e in entries) or not chosen:
            return False
        previous = chosen[-1].entry.unit
        return (
            (match.in_brackets or gap.strip() == ",")
            and previous.level != "departement"
            and (match.in_brackets or previous.departement == entries[0].unit.code)
        )

    @staticmethod
    def _by_level(match: _Match, query: str, notes: list[str]) -> list[Entry]:
        entries = match.entries
        if match.level_word == "pays":
            steered = [e for e in entries if e.kind == "alias" or e.unit.level == "epci"]
        elif match.level_word:
            steered = [e for e in entries if e.unit.level == match.level_word]
        else:
            steered = []
        if match.level_word and not steered:
            notes.append(
                f"'{query[match.start : match.end]}' is not a {match.level_word} here; read as {entries[0].unit.level}"
            )
        if steered:
            return steered
        for level in LEVEL_ORDER:
            at_level = [e for e in entries if e.unit.level == level and e.kind != "alias"]
            if at_level:
                return at_level
        return entries  # aliases: all the units of the pays

    @staticmethod
    def _pick_homonym(
        entries: list[Entry], matched: str, departements: set[str], has_context: bool, notes: list[str]
    ) -> tuple[list[Entry], float]:
        base = CONFIDENCE[entries[0].kind]
        if entries[0].kind in ("alias", "postcode"):
            return entries, base  # every unit of the pays, every commune using the postcode
        if len({e.unit for e in entries}) == 1:
            return entries[:1], base
        supported = [e for e in entries if e.unit.departement in departements]
        others = ", ".join(f"{e.unit.name} ({e.unit.code}, département {e.unit.departement})" for e in entries)
        if len(supported) == 1:
            pick = supported[0]
            where = "the context" if has_context else "the text"
            notes.append(
                f"'{matched}' names {len(entries)} {pick.unit.level}s ({others}); chose {pick.unit.code} "
                f"because {where} names its département"
            )
            return [pick], base * BY_CONTEXT
        pick = max(supported or entries, key=lambda e: e.unit.population)
        notes.append(
            f"'{matched}' names {len(entries)} {pick.unit.level}s ({others}); chose {pick.unit.code}, the "
            f"most populous ({pick.unit.population} inhabitants): name a département to choose another"
        )
        return [pick], base * BY_POPULATION

    def _fuzzy(self, fragment: str, notes: list[str]) -> _Chosen | None:
        """A misspelt name: close enough, same first letter (typos rarely hit it), and no equally close rival."""
        key = normalize(fragment)
        if len(key) < FUZZY_MIN_LENGTH or any(ch.isdigit() for ch in key):
            return None
        cutoff = FUZZY_MIN_SCORE if len(key) >= FUZZY_LONG else FUZZY_MIN_SCORE_SHORT
        found = [
            hit
            for hit in process.extract(key, self._fuzzy_keys, scorer=fuzz.ratio, score_cutoff=cutoff, limit=3)
            if hit[0][0] == key[0]
        ]
        if not found:
            return None
        (best, score, _), *rest = found
        entries = self.gazetteer.lookup(best)
        if (
            rest
            and rest[0][1] >= score - 1
            and {e.unit for e in self.gazetteer.lookup(rest[0][0])} != {e.unit for e in entries}
        ):
            notes.append(f"'{fragment}' is as close to '{best}' as to '{rest[0][0]}': not resolved")
            return None
        entry = max(entries, key=lambda e: (LEVEL_ORDER[::-1].index(e.unit.level), e.unit.population))
        notes.append(f"'{fragment}' read as '{entry.alias or entry.unit.name}' (similarity {score:.0f} %)")
        return _Chosen(entry, round(score / 100 * 0.8, 2), fragment)

    # -- the answer -----------------------------------------------------------------------------------------------

    def _finish(self, result: GeocodeResult, chosen: list[_Chosen], query: str) -> None:
        seen: set[tuple[str, str]] = set()
        communes: set[str] = set()
        grouped: dict[tuple[str, str, str], list[Unit]] = {}  # (kind, matched, source) -> units: aliases, postcodes
        for item in chosen:
            unit: Unit = item.entry.unit
            if item.role == TOUCHING or (unit.level, unit.code) in seen:
                continue
            seen.add((unit.level, unit.code))
            result.units.append(ResolvedUnit(unit.level, unit.code, unit.name, round(item.confidence, 2), item.matched))
            communes |= unit.communes
            if item.entry.kind in ("alias", "postcode"):
                grouped.setdefault((item.entry.kind, item.matched, item.entry.source or ""), []).append(unit)
        for (kind, matched, source), units in grouped.items():
            if kind == "alias":
                read_as = ", ".join(f"{u.level} {u.name}" for u in units)
                result.notes.append(f"'{matched}' is a pays name, read as {read_as} ({source})")
            elif len(units) > 1:
                names = ", ".join(f"{u.name} ({u.code})" for u in units)
                result.notes.append(f"'{matched}' is a postcode used by {len(units)} communes: {names}")
        communes |= self._add_neighbours(result, chosen, communes, seen)
        result.communes = sorted(communes)
        count = _COUNT.search(normalize(query))
        if count and result.units:
            expected = int(count.group(1))
            verdict = "as the text says" if expected == len(communes) else f"the text says {expected}"
            result.notes.append(f"the units found cover {len(communes)} communes, {verdict}")

    def _add_neighbours(
        self, result: GeocodeResult, chosen: list[_Chosen], base: set[str], seen: set[tuple[str, str]]
    ) -> set[str]:
        """The communes neighbour phrases add, returned one by one as commune units, each phrase with a note."""
        phrases: dict[tuple[str, str], list[Unit]] = {}
        for item in chosen:
            if item.role is not None and item.phrase is not None:
                phrases.setdefault((item.role, item.phrase), []).append(item.entry.unit)
        added_all: set[str] = set()
        for (role, phrase), units in phrases.items():
            named = frozenset().union(*(u.communes for u in units))
            if role == PLUS_NEIGHBOURS:
                added = self.gazetteer.neighbours(named) - base
                what = f"the communes touching {_names(units)}"
            elif base:
                added = (self.gazetteer.neighbours(base) & named) - base
                what = f"the communes of {_names(units)} touching {_names([r for r in result.units])}"
            else:
                added = self.gazetteer.neighbours(named)
                what = f"the communes touching {_names(units)}"
            added -= added_all
            added_all |= added
            listed = sorted(added, key=lambda c: self.gazetteer.units["commune", c].name)
            for code in listed:
                unit = self.gazetteer.units["commune", code]
                if ("commune", code) not in seen:
                    seen.add(("commune", code))
                    result.units.append(ResolvedUnit("commune", code, unit.name, NEIGHBOUR_CONFIDENCE, phrase))
            shown = ", ".join(self.gazetteer.units["commune", c].name for c in listed[:MAX_LISTED])
            more = f" and {len(listed) - MAX_LISTED} more" if len(listed) > MAX_LISTED else ""
            result.notes.append(
                f"'{phrase}': added {len(listed)} communes, {what} (a shared border): {shown or 'none'}{more}"
            )
        return added_all


def _names(units) -> str:
    return ", ".join(u.name for u in units)


def _span(tokens: list[Token], i: int, j: int) -> str:
    return " ".join(t.norm for t in tokens[i:j])
