"""The small built-in framework (fractions, grades 3-5) that paths use until CASE imports land."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Competency:
    """One competency with the competencies that must be mastered before it."""

    id: str
    title: str
    prerequisites: tuple[str, ...] = ()


BUILT_IN_FRAMEWORK: tuple[Competency, ...] = (
    Competency("3.NF.A.1", "Understand a unit fraction 1/b as one part of a whole cut into b equal parts"),
    Competency("3.NF.A.2", "Place fractions on a number line", ("3.NF.A.1",)),
    Competency("3.NF.A.3", "Explain equivalence and compare fractions", ("3.NF.A.1", "3.NF.A.2")),
    Competency("4.NF.A.1", "Make equivalent fractions by multiplying numerator and denominator", ("3.NF.A.3",)),
    Competency("4.NF.A.2", "Compare fractions with different numerators and denominators", ("4.NF.A.1",)),
    Competency("4.NF.B.3", "Add and subtract fractions with like denominators", ("3.NF.A.3",)),
    Competency("5.NF.A.1", "Add and subtract fractions with unlike denominators", ("4.NF.A.1", "4.NF.B.3")),
    Competency("5.NF.B.4", "Multiply a fraction by a whole number or a fraction", ("4.NF.B.3",)),
)
