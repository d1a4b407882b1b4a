"""Fitting the mastery model of `bkt` from past responses. Pure NumPy, no I/O.

Owns two fits: each competency's BKT parameters by expectation-maximization (forward-backward
over all sequences at once, several starting points, parameters kept within bounds), and the
learner-level weights (`LearnerWeights`) by logistic regression on the responses in time order,
the two rates chosen on a small grid. Sequences are packed time-major, longest first, so that
step t of every sequence still running is one contiguous slice: the loops run over steps,
never over responses or sequences.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from services.progress_service.bkt import BktParams, LearnerWeights

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Scalar = TypeVar("Scalar", bound=np.generic)
Row = tuple[str, str, bool]  # (learner, competency, correct)

_FIELDS = tuple(f.name for f in fields(BktParams))  # prior, learn, guess, slip, forget
_TINY = 1e-300
_EDGE = 1e-6  # as in bkt.logit
TERMS = ("recent", "ability")
RECENT_RATES = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
ABILITY_PSEUDO_COUNTS = (5.0, 10.0, 20.0, 50.0)


@dataclass(frozen=True, slots=True)
class Bounds:
    """Allowed range of each parameter; guess and slip stay below 0.5 so `known` means better."""

    prior: tuple[float, float] = (0.01, 0.99)
    learn: tuple[float, float] = (0.001, 0.5)
    guess: tuple[float, float] = (0.01, 0.4)
    slip: tuple[float, float] = (0.01, 0.4)
    forget: tuple[float, float] = (0.0, 0.3)


BOUNDS = Bounds()
DEFAULT = BktParams()
# Starting points, all tried at once; each competency keeps the one that ends most likely.
STARTS = (
    BktParams(prior=0.3, learn=0.1, guess=0.2, slip=0.1, forget=0.02),
    BktParams(prior=0.6, learn=0.2, guess=0.25, slip=0.15, forget=0.05),
    BktParams(prior=0.1, learn=0.05, guess=0.1, slip=0.05, forget=0.01),
)


@dataclass(frozen=True, slots=True)
class FitResult:
    """One competency's fitted parameters, their log-likelihood, responses and EM iterations."""

    params: BktParams
    log_likelihood: float
    responses: int
    iterations: int


@dataclass(frozen=True, slots=True)
class MasteryModel:
    """Everything the online model needs: parameters per competency and the learner weights."""

    params: Mapping[str, BktParams]
    default: BktParams  # for competencies without training data: the median of each parameter
    weights: LearnerWeights
    fits: Mapping[str, FitResult]

    def params_of(self, competency: str) -> BktParams:
        """The competency's parameters, or the default ones if it was not fitted."""
        return self.params.get(competency, self.default)


class _Layout:
    """Time-major packing of sequences: step t holds the sequences longer than t, longest first."""

    def __init__(self, lengths: Ints) -> None:
        order = np.argsort(-lengths, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        self.steps = int(lengths.max(initial=0))
        self.counts = np.bincount(lengths, minlength=self.steps + 1)[::-1].cumsum()[::-1][1:]
        self.offsets = np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(np.int64)
        sequence = np.repeat(np.arange(len(lengths)), lengths)
        step = np.arange(len(sequence)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        self.position = self.offsets[step] + rank[sequence]  # flat index of each response
        self.has_next = np.zeros(len(sequence), dtype=bool)
        self.has_next[self.position] = step < lengths[sequence] - 1

    def to_flat(self, values: NDArray[Scalar]) -> NDArray[Scalar]:
        """Values in sequence order (last axis) rearranged time-major."""
        out = np.empty_like(values)
        out[..., self.position] = values
        return out

    def from_flat(self, values: NDArray[Scalar]) -> NDArray[Scalar]:
        """Time-major values back in sequence order (last axis)."""
        return values[..., self.position]


def _forward(lay: _Layout, y: Floats, par: Floats) -> tuple[Floats, Floats, Floats]:
    """P(known) before each response, after it (filtered), and P(response); par is (5, K, N)."""
    prior, learn, guess, slip, forget = par
    like_known = np.where(y > 0, 1 - slip, slip)
    like_unknown = np.where(y > 0, guess, 1 - guess)
    known = np.empty_like(like_known)
    post = np.empty_like(like_known)
    p = prior[:, : lay.counts[0] if lay.steps else 0]
    for t in range(lay.steps):
        a, n = lay.offsets[t], lay.counts[t]
        p = p[:, :n]
        known[:, a : a + n] = p
        joint = p * like_known[:, a : a + n]
        q = joint / (joint + (1 - p) * like_unknown[:, a : a + n])
        post[:, a : a + n] = q
        if t + 1 < lay.steps:
            m = lay.counts[t + 1]  # a sequence's row keeps its index, so its next step is row < m
            p = q[:, :m] * (1 - forget[:, a : a + m]) + (1 - q[:, :m]) * learn[:, a : a + m]
    return known, post, known * like_known + (1 - known) * like_unknown


def _smooth(lay: _Layout, known: Floats, post: Floats, par: Floats) -> tuple[Floats, Floats, Floats]:
    """P(known | whole sequence) at each response, and expected unknown->known, known->unknown."""
    learn, forget = par[1], par[4]
    gamma = post.copy()  # right at each sequence's last response
    learned = np.zeros_like(post)
    forgot = np.zeros_like(post)
    for t in range(lay.steps - 2, -1, -1):
        a, m, b = lay.offsets[t], lay.counts[t + 1], lay.offsets[t + 1]
        g_next, p_next, q = gamma[:, b : b + m], known[:, b : b + m], post[:, a : a + m]
        to_known = g_next / np.maximum(p_next, _TINY)
        to_unknown = (1 - g_next) / np.maximum(1 - p_next, _TINY)
        forgot[:, a : a + m] = q * forget[:, a : a + m] * to_unknown
        learned[:, a : a + m] = (1 - q) * learn[:, a : a + m] * to_known
        gamma[:, a : a + m] = q * (1 - forget[:, a : a + m]) * to_known + forgot[:, a : a + m]
    return gamma, learned, forgot


class _Packed:
    """The sequences of the kept competencies, time-major, with each response's competency."""

    def __init__(self, y: Ints, lengths: Ints, group: Ints, keep: NDArray[np.bool_]) -> None:
        self.lay = _Layout(lengths[keep])
        self.obs = self.lay.to_flat(y[np.repeat(keep, lengths)].astype(np.float64))
        self.group = self.lay.to_flat(np.repeat(group[keep], lengths[keep]))
        self.first = np.zeros(len(self.obs))
        self.first[: self.lay.counts[0] if self.lay.steps else 0] = 1.0


def _em(
    y: Ints,
    lengths: Ints,
    group: Ints,
    names: Sequence[str],
    *,
    forget: bool,
    bounds: Bounds,
    iterations: int,
    tol: float,
) -> dict[str, FitResult]:
    """EM for all competencies and starts at once; `group` is each sequence's index into names."""
    k, groups, max_iterations = len(STARTS), len(names), iterations
    low = np.array([getattr(bounds, f)[0] for f in _FIELDS])[:, None, None]
    high = np.array([getattr(bounds, f)[1] for f in _FIELDS])[:, None, None]
    if not forget:
        low[4] = high[4] = 0.0
    starts = np.array([[getattr(s, f) for s in STARTS] for f in _FIELDS])
    params = np.clip(np.repeat(starts[:, :, None], groups, axis=2), low, high)
    responses = np.bincount(group, weights=lengths, minlength=groups)
    active = np.ones((k, groups), dtype=bool)
    done = np.zeros((k, groups), dtype=np.int64)
    previous = np.full((k, groups), -np.inf)

    def per_group(packed: _Packed, values: Floats) -> Floats:
        index = (packed.group[None, :] + groups * np.arange(k)[:, None]).ravel()
        return np.bincount(index, values.ravel(), minlength=k * groups).reshape(k, groups).astype(np.float64)

    while active.any():
        # Competencies converge at different speeds: repack the running ones whenever half are done.
        live = active.sum(axis=0) > 0
        packed, running = _Packed(y, lengths, group, live[group]), int(live.sum())
        lay, obs, first = packed.lay, packed.obs, packed.first
        while active.any() and 2 * int(active.any(axis=0).sum()) > running:
            par = params[:, :, packed.group]
            known, post, evidence = _forward(lay, obs, par)
            ll = per_group(packed, np.log(evidence))
            active &= (ll - previous > tol * responses) & (done < max_iterations)
            gamma, learned, forgot = _smooth(lay, known, post, par)
            sums = (
                (gamma * first, np.broadcast_to(first, gamma.shape)),
                (learned, (1 - gamma) * lay.has_next),
                ((1 - gamma) * obs, 1 - gamma),
                (gamma * (1 - obs), gamma),
                (forgot, gamma * lay.has_next),
            )
            ratios = []
            for i, (numerator, denominator) in enumerate(sums):
                n, d = per_group(packed, numerator), per_group(packed, denominator)
                ratios.append(np.where(d > 0, n / np.maximum(d, _TINY), params[i]))
            # Each parameter's M-step objective is concave in it alone, so clipping keeps EM monotone.
            params = np.where(active, np.clip(np.stack(ratios), low, high), params)
            done += active
            previous = ll
    everything = _Packed(y, lengths, group, np.ones(len(lengths), dtype=bool))
    ll = per_group(everything, np.log(_forward(everything.lay, everything.obs, params[:, :, everything.group])[2]))
    best = ll.argmax(axis=0)
    return {
        name: FitResult(
            _as_params(params[:, best[g], g]), float(ll[best[g], g]), int(responses[g]), int(done[best[g], g])
        )
        for g, name in enumerate(names)
    }


def _pack(sequences: Sequence[Sequence[bool]]) -> tuple[Ints, Ints]:
    """Responses concatenated (1/0) and the length of each sequence, empty ones left out."""
    kept = [s for s in sequences if len(s)]
    lengths = np.array([len(s) for s in kept], dtype=np.int64)
    y = np.concatenate([np.asarray(s, dtype=np.int64) for s in kept]) if kept else np.zeros(0, np.int64)
    return y, lengths


def _as_params(column: Floats) -> BktParams:
    return BktParams(**{f: float(v) for f, v in zip(_FIELDS, column, strict=True)})


def log_likelihood(sequences: Sequence[Sequence[bool]], params: BktParams) -> float:
    """Log-likelihood of the sequences under one competency's BKT parameters."""
    y, lengths = _pack(sequences)
    lay = _Layout(lengths)
    par = np.array([getattr(params, f) for f in _FIELDS])[:, None, None] * np.ones((1, 1, len(y)))
    return float(np.log(_forward(lay, lay.to_flat(y.astype(np.float64)), par)[2]).sum())


def fit_bkt(
    sequences: Mapping[str, Sequence[Sequence[bool]]],
    *,
    forget: bool = True,
    bounds: Bounds = BOUNDS,
    max_iterations: int = 100,
    tolerance: float = 1e-6,
) -> dict[str, FitResult]:
    """EM fit per competency of its learners' response sequences (competencies without any left out)."""
    packed = {name: _pack(seqs) for name, seqs in sequences.items()}
    names = [name for name, (y, _) in packed.items() if len(y)]
    if not names:
        return {}
    counts = [len(packed[name][1]) for name in names]
    y, lengths = (np.concatenate([packed[name][i] for name in names]) for i in (0, 1))
    group = np.repeat(np.arange(len(names)), counts)
    return _em(y, lengths, group, names, forget=forget, bounds=bounds, iterations=max_iterations, tol=tolerance)


@dataclass(frozen=True, slots=True)
class _Rows:
    """Rows as arrays: learner and competency codes, answers, in the rows' order."""

    learner: Ints
    competency: Ints
    y: Ints
    competencies: list[str]

    @classmethod
    def of(cls, rows: Sequence[Row]) -> "_Rows":
        learners, competencies, answers = zip(*rows, strict=True) if rows else ((), (), ())
        names, competency = np.unique(np.array(competencies, dtype=str), return_inverse=True)
        learner = np.unique(np.array(learners, dtype=str), return_inverse=True)[1]
        y = np.array(answers, dtype=np.int64)
        return cls(learner.astype(np.int64), competency.astype(np.int64), y, [str(n) for n in names])


def _segments(key: Ints) -> tuple[Ints, Ints]:
    """A stable order grouping equal keys (time order kept inside) and each group's length."""
    order = np.argsort(key, kind="stable")
    return order, np.unique(key[order], return_counts=True)[1].astype(np.int64)


def _bkt_predictions(rows: _Rows, params: Mapping[str, BktParams], default: BktParams) -> Floats:
    """BKT's P(correct) of each row from the earlier rows of its learner on its competency."""
    order, lengths = _segments(rows.learner * len(rows.competencies) + rows.competency)
    lay = _Layout(lengths)
    table = np.array([[getattr(params.get(c, default), f) for c in rows.competencies] for f in _FIELDS])
    par = lay.to_flat(table[:, rows.competency[order]])[:, None, :]
    known = lay.from_flat(_forward(lay, lay.to_flat(rows.y[order].astype(np.float64)), par)[0][0])
    guess, slip = table[2, rows.competency[order]], table[3, rows.competency[order]]
    out = np.empty(len(order))
    out[order] = known * (1 - slip) + (1 - known) * guess
    return out


def _recent(rows: _Rows, rate: float) -> Floats:
    """The recent term of each row: the running mean of its learner's earlier answers, minus 0.5."""
    order, lengths = _segments(rows.learner)
    lay = _Layout(lengths)
    answers, recent = lay.to_flat(rows.y[order].astype(np.float64)), np.empty(len(order))
    running = np.full(lay.counts[0] if lay.steps else 0, 0.5)
    for t in range(lay.steps):
        a, n = lay.offsets[t], lay.counts[t]
        running = running[:n]
        recent[a : a + n] = running
        running = running + rate * (answers[a : a + n] - running)
    out = np.empty(len(order))
    out[order] = lay.from_flat(recent) - 0.5
    return out


def _ability(rows: _Rows, bkt: Floats, pseudo_count: float) -> Floats:
    """The ability term of each row: its learner's earlier surprises summed, over count + pseudo-count."""
    order, lengths = _segments(rows.learner)
    residual = rows.y[order] - bkt[order]
    start = np.repeat(np.cumsum(lengths) - lengths, lengths)
    before = np.cumsum(residual) - residual
    before -= before[start]  # residuals of this learner's earlier rows only
    out = np.empty(len(order))
    out[order] = before / (np.arange(len(order)) - start + pseudo_count)
    return out


def _logit(p: Floats) -> Floats:
    p = np.clip(p, _EDGE, 1 - _EDGE)
    return np.asarray(np.log(p / (1 - p)), dtype=np.float64)


def _penalized_ll(x: Floats, y: Floats, w: Floats, ridge: float) -> float:
    z = w @ x
    return float(np.mean(y * z - np.logaddexp(0.0, z)) - ridge * (w @ w) / 2)


def _logistic(x: Floats, y: Floats, w: Floats, ridge: float = 1e-6) -> Floats:
    """Logistic regression by damped Newton steps from w (x holds one feature per row).

    A step is halved until the penalized log-likelihood improves, so a poor start (or nearly
    separable data) cannot throw the weights to infinity.
    """
    current = _penalized_ll(x, y, w, ridge)
    for _ in range(50):
        p = np.exp(-np.logaddexp(0.0, -(w @ x)))  # the sigmoid, without overflow
        gradient = x @ (p - y) / len(y) + ridge * w
        hessian = (x * (p * (1 - p))) @ x.T / len(y) + ridge * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        for _ in range(30):
            candidate = w - step
            value = _penalized_ll(x, y, candidate, ridge)
            if value >= current:
                break
            step = step / 2
        else:
            break
        w, current = candidate, value
        if np.abs(step).max() < 1e-9:
            break
    return w


def _first_answers(data: _Rows) -> NDArray[np.bool_]:
    """Rows whose learner's previous row is on the same competency, or that have none.

    An item on several competencies arrives as consecutive rows with one answer, so any other
    row may repeat the answer before it; judged there, the recent term would learn to copy.
    """
    order, lengths = _segments(data.learner)
    competency = data.competency[order]
    fresh = np.concatenate([[True], competency[1:] == competency[:-1]])
    fresh[np.cumsum(lengths) - lengths] = True
    out = np.empty(len(order), dtype=bool)
    out[order] = fresh
    return out


def _fit_weights(
    data: _Rows, params: Mapping[str, BktParams], default: BktParams, terms: Collection[str], guard: bool
) -> LearnerWeights:
    bkt = _bkt_predictions(data, params, default)
    used = [t for t in TERMS if t in terms]
    rates = RECENT_RATES if "recent" in used else (LearnerWeights().recent_rate,)
    pseudo_counts = ABILITY_PSEUDO_COUNTS if "ability" in used else (LearnerWeights().ability_pseudo_count,)
    recent = {r: _recent(data, r) for r in rates} if "recent" in used else {}
    ability = {m: _ability(data, bkt, m) for m in pseudo_counts} if "ability" in used else {}
    y, base = data.y.astype(np.float64), [np.ones(len(bkt)), _logit(bkt)]
    judged = _first_answers(data) if guard else np.ones(len(y), dtype=bool)
    w, best, best_ll = np.zeros(2 + len(used)), LearnerWeights(), -np.inf
    for r in rates:
        for m in pseudo_counts:
            x = np.stack(base + [recent[r] if t == "recent" else ability[m] for t in used])
            fitted = _logistic(x, y, w)  # warm start from the previous grid point
            w = fitted if np.all(np.isfinite(fitted)) else _logistic(x, y, np.zeros_like(w))
            z = w @ x[:, judged]
            ll = float(np.mean(y[judged] * z - np.logaddexp(0, z)))
            if ll > best_ll:
                values = dict(zip(["intercept", "competency", *used], (float(v) for v in w), strict=True))
                best, best_ll = LearnerWeights(**values, recent_rate=r, ability_pseudo_count=m), ll
    return best


def fit_weights(
    rows: Iterable[Row],
    params: Mapping[str, BktParams],
    *,
    default: BktParams = DEFAULT,
    terms: Collection[str] = TERMS,
    guard_repeats: bool = True,
) -> LearnerWeights:
    """Learner-level weights fitted on all rows, the two rates chosen by grid (on first answers if guarded)."""
    return _fit_weights(_Rows.of(list(rows)), params, default, terms, guard_repeats)


def fit_model(
    rows: Iterable[Row],
    *,
    forget: bool = True,
    terms: Collection[str] = TERMS,
    bounds: Bounds = BOUNDS,
    max_iterations: int = 100,
    tolerance: float = 1e-6,
    guard_repeats: bool = True,
) -> MasteryModel:
    """The whole model from `(learner, competency, correct)` rows, each learner's rows in time order."""
    data = _Rows.of(list(rows))
    order, lengths = _segments(data.learner * len(data.competencies) + data.competency)
    group = data.competency[order[np.cumsum(lengths) - lengths]]
    y, names = data.y[order], data.competencies
    fits = _em(y, lengths, group, names, forget=forget, bounds=bounds, iterations=max_iterations, tol=tolerance)
    params = {c: f.params for c, f in fits.items()}
    table = np.array([[getattr(p, f) for p in params.values()] for f in _FIELDS])
    default = _as_params(np.median(table, axis=1)) if params else BktParams()
    weights = _fit_weights(data, params, default, terms, guard_repeats) if terms and len(y) else LearnerWeights()
    return MasteryModel(params, default, weights, fits)


def predict_rows(model: MasteryModel, rows: Iterable[Row]) -> Floats:
    """P(correct) of each row from the earlier rows of its learner, as `bkt.observe` would give."""
    data = _Rows.of(list(rows))
    bkt = _bkt_predictions(data, model.params, model.default)
    w = model.weights
    recent, ability = _recent(data, w.recent_rate), _ability(data, bkt, w.ability_pseudo_count)
    z = w.intercept + w.competency * _logit(bkt) + w.recent * recent + w.ability * ability
    return np.asarray(1 / (1 + np.exp(-z)), dtype=np.float64)
