from agenttrail.jsvalue import to_utf16, utf8_bytes
from agenttrail.text import ELLIPSIS, to_well_formed, truncate, truncate_words

PAIRS = to_utf16("😀" * 10)


def well_formed(s):
    from agenttrail.text import is_well_formed

    return is_well_formed(s)


def test_fitting_text_is_unchanged_and_a_cut_ends_in_the_marker():
    assert truncate("hello", max_length=10) == "hello"
    assert truncate("hello world", max_length=6) == "hello" + ELLIPSIS


def test_never_splits_a_surrogate_pair_at_any_length():
    for n in range(0, 22):
        for cut in (truncate(PAIRS, max_length=n), truncate(PAIRS, max_length=n, marker="")):
            assert well_formed(cut), n
            assert len(cut) <= n


def test_cuts_by_utf8_bytes_on_a_code_point_boundary():
    text = to_utf16("aé😀日")  # 1 + 2 + 4 + 3 bytes
    assert [truncate(text, max_bytes=n, marker="") for n in (0, 1, 2, 3, 6, 7, 9, 10)] == [
        "",
        "a",
        "a",
        to_utf16("aé"),
        to_utf16("aé"),
        to_utf16("aé😀"),
        to_utf16("aé😀"),
        text,
    ]
    assert utf8_bytes(truncate(to_utf16("😀" * 100), max_bytes=50)) <= 50


def test_truncate_words_drops_a_partial_token():
    token = "ghp_" + "Zx9" * 12
    cut = truncate_words(f"the token is {token} and more", max_length=25)
    assert cut == "the token is " + ELLIPSIS
    assert token[:5] not in cut


def test_to_well_formed():
    assert to_well_formed("a\ud800b\udc00") == "a\ufffdb\ufffd"
    assert to_well_formed("\ud83d\ude00") == "\ud83d\ude00"
