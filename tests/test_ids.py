"""IDs: Meteor's alphabet and length, prefixes, the fixtures' first IDs, no duplicates."""

from __future__ import annotations

import random
import re

from mockserver.ids import CUID_ALPHABET, METEOR_ALPHABET, URLSAFE_ALPHABET, IdFactory


def test_meteor__17_characters_of_meteors_alphabet():
    ids = IdFactory(random.Random(1))
    drawn = [ids.meteor("contacts") for _ in range(500)]
    assert all(len(i) == 17 and set(i) <= set(METEOR_ALPHABET) for i in drawn)
    assert len(set(drawn)) == 500


def test_meteor__first_ids_then_drawn_and_taken_ones_skipped():
    ids = IdFactory(random.Random(1), {"contacts": ["AAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBB"]})
    assert ids.meteor("contacts", taken={"AAAAAAAAAAAAAAAAA"}.__contains__) == "BBBBBBBBBBBBBBBBB"
    assert ids.meteor("contacts") not in ("AAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBB")


def test_meteor__each_kind_has_its_own_first_ids():
    ids = IdFactory(random.Random(1), {"contacts": ["CCCCCCCCCCCCCCCCC"], "requests": ["RRRRRRRRRRRRRRRRR"]})
    assert ids.meteor("campaigns") not in ("CCCCCCCCCCCCCCCCC", "RRRRRRRRRRRRRRRRR")
    assert ids.meteor("requests") == "RRRRRRRRRRRRRRRRR"
    assert ids.meteor("contacts") == "CCCCCCCCCCCCCCCCC"


def test_prefixed__prefix_and_cuid_like_suffix():
    ids = IdFactory(random.Random(1), {"bulkSends": ["bs_def456"]})
    assert ids.prefixed("bs_", "bulkSends") == "bs_def456"
    assert re.fullmatch(r"bs_[0-9a-z]{12}", ids.prefixed("bs_", "bulkSends"))
    assert re.fullmatch(r"cm[0-9a-z]{12}", ids.prefixed("", "documents"))


def test_same_seed__same_ids():
    a, b = IdFactory(random.Random("s")), IdFactory(random.Random("s"))
    assert [a.meteor("contacts") for _ in range(5)] == [b.meteor("contacts") for _ in range(5)]


def test_draws__the_characters_random_choices_draws_from_the_same_state():
    # IDs drawn before and after the draw was written without random.choices are the same, so
    # a seed, or a snapshot's random state, gives the same IDs as it always did.
    for seed in (0, 42, 2**63 - 1):
        ids = IdFactory(random.Random(seed))
        reference = random.Random(seed)
        for _ in range(20):
            assert ids.meteor("contacts") == "".join(reference.choices(METEOR_ALPHABET, k=17))
            assert ids.prefixed("bs_", "bulkSends", 24) == "bs_" + "".join(reference.choices(CUID_ALPHABET, k=24))
            assert ids.token(44) == "".join(reference.choices(URLSAFE_ALPHABET, k=44))
