"""Sentence splitting across scripts, with abbreviations and numbers kept inside sentences."""

import pytest

from eventlens.inference.sentences import split_sentences


@pytest.mark.parametrize(
    "doc, expected",
    [
        ("Mr. Smith of the U.S. State Dept. disagreed. Growth was 3.5 percent! Why?",
         ["Mr. Smith of the U.S. State Dept. disagreed.", "Growth was 3.5 percent!", "Why?"]),
        ("Армия заявила, т.е. подтвердила. ООН промолчала.", ["Армия заявила, т.е. подтвердила.", "ООН промолчала."]),
        ("قال الجيش إن الهجوم فشل. هل يعود المفاوضون؟ لا أحد يعرف.", ["قال الجيش إن الهجوم فشل.", "هل يعود المفاوضون؟", "لا أحد يعرف."]),
        ("外交部表示反对。双方同意继续谈判！", ["外交部表示反对。", "双方同意继续谈判！"]),
        ("सेना ने हमला किया। पुलिस ने लोगों को गिरफ्तार किया।", ["सेना ने हमला किया।", "पुलिस ने लोगों को गिरफ्तार किया।"]),
        ("Am 5. Mai protestierten Tausende. J. Müller sprach z.B. lange.", ["Am 5. Mai protestierten Tausende.", "J. Müller sprach z.B. lange."]),
        ("«Мы уйдём», — сказал он. Потом ушёл.", ["«Мы уйдём», — сказал он.", "Потом ушёл."]),
        ("   ", []),
    ],
)
def test_split(doc, expected):
    assert [doc[s:e] for s, e in split_sentences(doc)] == expected
