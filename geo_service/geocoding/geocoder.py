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
* former communes ("Lomme"), short forms ("Le Touquet") and EPCI usual names come from the gazetteer; a reading
  through one says so in a French note ("Lomme, commune associée de Lille");
* a name joined by hyphens to a complement that no name has ("Berck-sur-Mer") is that name, and the note says so; a
  place name inside such a compound ("…-sur-Somme") is part of the name, never a unit of its own;
* a département code in brackets, "Senlis (62)", or a département after "dans", "Senlis dans l'Oise", only says where
  the place is;
* what is left unmatched is tried against every name with a similarity threshold (misspellings), else reported in
  ``unresolved``; a candidate farther from the text than a typo is not a reading but a question;
* never confidently wrong: when two places fit (homonyms no département decides, a short form several places share,
  a doubtful spelling), the answer lists them in ``candidates``, sets ``to_confirm`` and asks its French
  ``question`` ("Senlis (60) ou Senlis (62) ?"); the first of them stays in ``units``, as before, with its lower
  confidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from geo_service.geocoding.gazetteer import ARTICLES, LINK_WORDS, Entry, Gazetteer, Unit
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
CONFIDENCE = {
    "name": 1.0,
    "former": 0.95,  # the name of a part of the commune returned
    "epci_core": 0.95,
    "acronym": 0.9,
    "short": 0.9,
    "postcode": 0.9,
    "alias": 0.85,
}
COMPLEMENT = 0.9  # "Berck-sur-Mer": the name, with words no name has
# A misspelling is a typo or two (edits, a swap counting as one), by length: more than that is another name.
TYPO_EDITS_SHORT, TYPO_EDITS_LONG = 1, 2
# Words before a département that only say where the place named before it is: "Senlis dans l'Oise".
WHERE_WORDS = frozenset({"dans", "dans le", "dans la", "dans l", "dans les", "en"})
HYPHENS = frozenset({"-", "'", "’", "‑"})
MAX_ASKED = 5  # places listed in a question
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


@dataclass(frozen=True)
class Candidate:
    """A place the text may name, for a person to confirm: ``why`` says in French how it fits."""

    level: str
    code: str
    name: str
    departement: str | None
    why: str


@dataclass
class GeocodeResult:
    query: str
    units: list[ResolvedUnit] = field(default_factory=list)
    communes: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    to_confirm: bool = False
    questions: list[str] = field(default_factory=list)

    @property
    def question(self) -> str | None:
        """What to ask a person, in French ("Senlis (60) ou Senlis (62) ?"), or None when nothing is in doubt."""
        return " ".join(self.questions) or None

    def ask(self, question: str, candidates: list[Candidate]) -> None:
        self.to_confirm = True
        self.questions.append(question)
        for candidate in candidates:
            if candidate not in self.candidates:
                self.candidates.append(candidate)

    def as_dict(self) -> dict:
        return {
            "query": self.query,
            "units": [vars(u) for u in self.units],
            "communes": self.communes,
            "unresolved": self.unresolved,
            "notes": self.notes,
            "candidates": [vars(c) for c in self.candidates],
            "to_confirm": self.to_confirm,
            "question": self.question,
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
    complement: str | None = None  # "sur-Mer" in "Berck-sur-Mer": joined words no name has
    complement_names: bool = False  # the complement holds a name of its own ("sur-Somme")


@dataclass(frozen=True)
class _Chosen:
    entry: Entry
    confidence: float
    matched: str
    role: str | None = None
    phrase: str | None = None
    complement: str | None = None


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
        # postcodes are never misspelt names (a text with a digit is not compared): leaving them out halves the work
        self._fuzzy_keys = [key for key in gazetteer.names if not key.isdigit()]

    def geocode(self, query: str, context: str | None = None) -> GeocodeResult:
        result = GeocodeResult(query=query)
        scan = self._scan(query)
        result.notes.extend(scan.notes)
        context_departements = self._departements_named(context) if context else set()
        chosen = self._choose(scan.matches, query, context_departements, result)
        leftovers = [query[a:b] for a, b in scan.leftovers]
        for fragment in leftovers:
            found = self._fuzzy(fragment, result)
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

    @staticmethod
    def _joined(tokens: list[Token], query: str, k: int) -> bool:
        """Tokens k and k+1 are parts of one hyphenated word ("Berck-sur-Mer", "sur-l'Escaut")."""
        return k + 1 < len(tokens) and query[tokens[k].end : tokens[k + 1].start] in HYPHENS

    def _complement(self, tokens: list[Token], words: list[str], end: int, query: str) -> tuple[int, str | None, bool]:
        """After a name ending at word ``end``, the rest of its hyphenated word when that goes on with a linking word
        ("Berck|-sur-Mer"): the new end, the complement as written, and whether it holds a name of its own."""
        if not (end < len(words) and words[end] in LINK_WORDS and self._joined(tokens, query, end - 1)):
            return end, None, False
        last = end
        while self._joined(tokens, query, last):
            last += 1
        if last == end:
            return end, None, False  # "Lille-en" and nothing after: not a complement
        rest = words[end + 1 : last + 1]
        names = any(
            self.gazetteer.lookup(" ".join(rest[a:b])) for a in range(len(rest)) for b in range(a + 1, len(rest) + 1)
        )
        return last + 1, query[tokens[end].start : tokens[last].end], names

    def _inside_compound(self, tokens: list[Token], words: list[str], i: int, query: str) -> bool:
        """Word ``i`` follows a linking word inside a hyphenated word ("Xyz-sur-|Somme"): part of a name, not a
        place of its own (a département read there would be hundreds of communes)."""
        return (
            i >= 2
            and words[i - 1] in LINK_WORDS
            and self._joined(tokens, query, i - 2)
            and self._joined(tokens, query, i - 1)
        )

    def _scan_segment(self, segment: list[Token], scan: _Scan, query: str) -> None:
        in_brackets = bool(segment) and segment[0].norm == "("
        tokens = [t for t in segment if not t.is_separator]
        words = [t.norm for t in tokens]
        departement = self.gazetteer.units.get(("departement", words[0])) if len(words) == 1 else None
        if in_brackets and departement is not None:
            # "Senlis (62)": a département code in brackets (a number anywhere else is a count, not a place)
            entry = Entry(departement, "name")
            self._add_match(scan, _Match([entry], tokens[0].start, tokens[0].end, None, None, True), query)
            return
        i, pending = 0, []  # pending: unmatched tokens since the last match
        narrowed_by: str | None = None
        while i < len(words):
            if self._inside_compound(tokens, words, i, query):
                pending.append(i)
                i += 1
                continue
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
                end, complement, names = self._complement(tokens, words, end, query)
                match = _Match(hinted, tokens[first].start, tokens[end - 1].end, level, narrowed_by, in_brackets)
                match.complement, match.complement_names = complement, names
                self._add_match(scan, match, query)
                narrowed_by, i = None, end
                continue
            if direct and not (direct == 1 and self._is_direction(words, i)):
                self._flush(tokens, pending, scan)
                pending = []
                end, complement, names = self._complement(tokens, words, i + direct, query)
                match = _Match(entries, tokens[i].start, tokens[end - 1].end, None, narrowed_by, in_brackets)
                match.complement, match.complement_names = complement, names
                self._add_match(scan, match, query)
                narrowed_by, i = None, end
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

    def _choose(
        self, matches: list[_Match], query: str, context_deps: set[str], result: GeocodeResult
    ) -> list[_Chosen]:
        notes = result.notes
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
            pick, confidence, rivals = self._pick_homonym(
                entries, matched, named | context_deps, bool(context_deps), notes
            )
            if rivals:
                shown = rivals[:MAX_ASKED]
                more = f" (ou l'un des {len(rivals) - MAX_ASKED} autres)" if len(rivals) > MAX_ASKED else ""
                result.ask(
                    " ou ".join(_label(e) for e in shown) + more + " ?",
                    [_candidate(e, _why(e, matched)) for e in rivals],
                )
            if match.complement:
                confidence *= COMPLEMENT
                near = self._nearest(matched)
                if near is not None and near[0].unit not in {e.unit for e in entries}:
                    # "Boulogne-sur-Helppe": a misspelt name of another place, not Boulogne with a complement
                    result.ask(
                        f"« {matched} » : {_label(pick[0])} ou {_label(near[0])} ?",
                        [
                            _candidate(pick[0], f"« {match.complement} » complète le nom"),
                            _candidate(near[0], f"nom proche de « {matched} » ({near[1]:.0f} %)"),
                        ],
                    )
                elif match.complement_names:
                    result.ask(
                        f"« {matched} » : s'agit-il de {_label(pick[0])} ?",
                        [_candidate(pick[0], f"« {match.complement} » complète le nom sans être un nom connu")],
                    )
            if match.narrowed_by:
                confidence *= NARROWED
                notes.append(
                    f"'{match.narrowed_by}' narrows {pick[0].unit.name}, which has no finer unit here: "
                    f"the whole {pick[0].unit.level} is returned"
                )
            for entry in pick:
                chosen.append(_Chosen(entry, confidence, matched, match.role, match.phrase, match.complement))
        return chosen

    @staticmethod
    def _qualifies_previous(match: _Match, entries: list[Entry], chosen: list, gap: str) -> bool:
        """'Senlis (Oise)', 'Compiègne, Oise': a département right after a place only says where that place is."""
        if match.level_word or not all(e.unit.level == "departement" for e in entries) or not chosen:
            return False
        previous = chosen[-1].entry.unit
        return (
            (match.in_brackets or gap.strip() == "," or normalize(gap) in WHERE_WORDS)
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
    ) -> tuple[list[Entry], float, list[Entry]]:
        """The entries read, their confidence, and the places to ask about when nothing in the text decides."""
        base = CONFIDENCE[entries[0].kind]
        if entries[0].kind in ("alias", "postcode"):
            return entries, base, []  # every unit of the pays, every commune using the postcode
        if len({e.unit for e in entries}) == 1:
            return entries[:1], base, []
        supported = [e for e in entries if e.unit.departement in departements]
        others = ", ".join(f"{e.unit.name} ({e.unit.code}, département {e.unit.departement})" for e in entries)
        if len(supported) == 1:
            pick = supported[0]
            where = "the context" if has_context else "the text"
            notes.append(
                f"'{matched}' names {len(entries)} {pick.unit.level}s ({others}); chose {pick.unit.code} "
                f"because {where} names its département"
            )
            return [pick], base * BY_CONTEXT, []
        pick = max(supported or entries, key=lambda e: e.named_population)
        notes.append(
            f"'{matched}' names {len(entries)} {pick.unit.level}s ({others}); chose {pick.unit.code}, the "
            f"most populous ({pick.named_population} inhabitants): name a département to choose another"
        )
        rivals = sorted(supported or entries, key=lambda e: (e is not pick, -e.named_population, e.unit.code))
        return [pick], base * BY_POPULATION, _one_per_unit(rivals)

    def _nearest(self, text: str) -> tuple[Entry, float] | None:
        """The name nearest to ``text`` when it is close enough to be a misspelling of it (same rules as below)."""
        key = normalize(text)
        cutoff = FUZZY_MIN_SCORE if len(key) >= FUZZY_LONG else FUZZY_MIN_SCORE_SHORT
        hit = process.extractOne(key, self._fuzzy_keys, scorer=fuzz.ratio, score_cutoff=cutoff)
        if hit is None or hit[0][0] != key[0]:
            return None
        entries = self.gazetteer.lookup(hit[0])
        entry = max(entries, key=lambda e: (LEVEL_ORDER[::-1].index(e.unit.level), e.named_population))
        return entry, hit[1]

    def _fuzzy(self, fragment: str, result: GeocodeResult) -> _Chosen | None:
        """A misspelt name: close enough, same first letter (typos rarely hit it), no equally close rival, and no
        more than a typo or two away; a name farther than that, or two as close, is asked about, not read."""
        notes = result.notes
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
        entry = max(entries, key=lambda e: (LEVEL_ORDER[::-1].index(e.unit.level), e.unit.population))
        why = f"nom proche de « {fragment} » ({score:.0f} %)"
        if (
            rest
            and rest[0][1] >= score - 1
            and {e.unit for e in self.gazetteer.lookup(rest[0][0])} != {e.unit for e in entries}
        ):
            notes.append(f"'{fragment}' is as close to '{best}' as to '{rest[0][0]}': not resolved")
            other = max(
                self.gazetteer.lookup(rest[0][0]),
                key=lambda e: (LEVEL_ORDER[::-1].index(e.unit.level), e.unit.population),
            )
            result.ask(
                f"« {fragment} » : {_label(entry)} ou {_label(other)} ?",
                [_candidate(entry, why), _candidate(other, f"nom proche de « {fragment} » ({rest[0][1]:.0f} %)")],
            )
            return None
        allowed = TYPO_EDITS_LONG if len(key) >= FUZZY_LONG else TYPO_EDITS_SHORT
        if OSA.distance(key.replace(" ", ""), best.replace(" ", "")) > allowed:
            notes.append(
                f"'{fragment}' is near '{entry.alias or entry.unit.name}' (similarity {score:.0f} %) but differs by "
                "more than a typo: not read, asked"
            )
            result.ask(f"« {fragment} » : vouliez-vous dire {_label(entry)} ?", [_candidate(entry, why)])
            return None
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
            elif item.entry.kind == "former":
                result.notes.append(f"{item.entry.alias}, {item.entry.source}")
            elif item.entry.kind == "short":
                result.notes.append(f"« {item.matched} » : {item.entry.source}")
            if item.complement:
                result.notes.append(f"« {item.matched} » lu comme {unit.name} : « {item.complement} » complète le nom")
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


def _departement_of(unit: Unit) -> str:
    return unit.departement or unit.code


def _label(entry: Entry) -> str:
    """How a place is named in a question: 'Senlis (60)', 'Wailly, commune associée de Conty (80)'."""
    unit = entry.unit
    if entry.kind == "former" and entry.alias:
        return f"{entry.alias}, {entry.source} ({_departement_of(unit)})"
    if entry.kind == "short" and entry.alias and entry.alias != unit.name:
        return f"{entry.alias} ({unit.name}, {_departement_of(unit)})"  # the short form of a former commune
    return f"{unit.name} ({_departement_of(unit)})"


def _why(entry: Entry, matched: str) -> str:
    """French, for a candidate: how the text fits it."""
    if entry.kind in ("former", "short") and entry.source:
        return f"« {matched} » : {entry.source}"
    if entry.kind == "acronym":
        return f"« {matched} » : sigle de {entry.unit.name}"
    return f"« {matched} » : nom de {entry.unit.name} ({_departement_of(entry.unit)})"


def _candidate(entry: Entry, why: str) -> Candidate:
    unit = entry.unit
    return Candidate(unit.level, unit.code, unit.name, unit.departement, why)


def _one_per_unit(entries: list[Entry]) -> list[Entry]:
    seen: set[Unit] = set()
    kept = []
    for entry in entries:
        if entry.unit not in seen:
            seen.add(entry.unit)
            kept.append(entry)
    return kept


def _names(units) -> str:
    return ", ".join(u.name for u in units)


def _span(tokens: list[Token], i: int, j: int) -> str:
    return " ".join(t.norm for t in tokens[i:j])
