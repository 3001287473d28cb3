"""awsgluedq's ``EvaluateDataQuality`` for local runs: DQDL rules evaluated on Spark.

It reads the DQDL the project exports (``aws.glue.dqdl``), which is a subset of the
language: ``IsComplete``, ``IsUnique``, ``IsPrimaryKey``, ``ColumnValues`` (``in``,
comparisons, ``between``, ``= NULL``), ``RowCount``, ``ReferentialIntegrity``, ``CustomSql``
(a number against a condition, or selected rows as row-level results), and flat ``and`` /
``or`` composites; anything else is refused by name. The semantics follow the DQDL
reference: ``between`` is exclusive, a NULL fails every ``ColumnValues`` rule except
``= NULL``, rows a row-level ``CustomSql`` returns pass.

``process_rows`` returns Glue's two frames: ``ruleOutcomes`` (``Rule``, ``Outcome``,
``FailureReason``, ``EvaluatedMetrics``) and ``rowLevelOutcomes`` (the input columns plus
``DataQualityRulesPass``, ``DataQualityRulesFail``, ``DataQualityRulesSkip`` and
``DataQualityEvaluationResult``); rules without row-level results are listed as skipped.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

    from etl_service.aws.glue.local import DynamicFrame, DynamicFrameCollection

_TOKEN = re.compile(r'\s*("(?:[^"\\]|\\.)*"|>=|<=|[<>=\[\](),]|-?\d+(?:\.\d+)?|\w+)')
ROW_ID = "__dq_row"


class DqdlError(ValueError):
    """A ruleset this evaluator cannot read."""


@dataclass(frozen=True)
class Condition:
    """An operator and its operands (numbers, strings, or NULL as None)."""

    op: str
    operands: tuple[Any, ...]

    def test(self, value: float) -> bool:
        a = self.operands
        checks: dict[str, Callable[[], bool]] = {
            ">": lambda: value > a[0],
            ">=": lambda: value >= a[0],
            "<": lambda: value < a[0],
            "<=": lambda: value <= a[0],
            "=": lambda: value == a[0],
            "between": lambda: a[0] < value < a[1],
            "in": lambda: value in a,
        }
        return checks[self.op]()

    def column(self, col: Column) -> Column:
        """Whether each row's ``col`` meets the condition; NULL fails unless ``= NULL``."""
        from pyspark.sql import functions as sf

        a = self.operands
        if self.op == "=" and a[0] is None:
            return col.isNull()
        checks: dict[str, Callable[[], Column]] = {
            ">": lambda: col > a[0],
            ">=": lambda: col >= a[0],
            "<": lambda: col < a[0],
            "<=": lambda: col <= a[0],
            "=": lambda: col == a[0],
            "between": lambda: (col > a[0]) & (col < a[1]),
            "in": lambda: col.isin(*a),
        }
        return sf.coalesce(checks[self.op](), sf.lit(False))


@dataclass(frozen=True)
class Rule:
    """One DQDL rule: its type, parameters and condition."""

    type: str
    params: tuple[str, ...]
    condition: Condition | None


@dataclass(frozen=True)
class TopLevel:
    """A top-level rule: one rule, or rules joined by one logical operator."""

    text: str
    parts: tuple[Rule, ...]
    operator: str = "and"


class _Tokens:
    def __init__(self, text: str) -> None:
        self.items = _TOKEN.findall(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def take(self, expected: str | None = None) -> str:
        word = self.peek()
        if word is None or (expected is not None and word.lower() != expected):
            raise DqdlError(f"expected {expected or 'more'} at {word!r}")
        self.pos += 1
        return word


def _value(word: str) -> Any:
    if word.startswith('"'):
        return word[1:-1].replace('\\"', '"')
    if word == "NULL":
        return None
    return float(word) if "." in word else int(word)


def _condition(tokens: _Tokens) -> Condition | None:
    word = tokens.peek()
    if word in {">", ">=", "<", "<=", "="}:
        tokens.take()
        return Condition(word, (_value(tokens.take()),))
    if word == "between":
        tokens.take()
        low = _value(tokens.take())
        tokens.take("and")
        return Condition("between", (low, _value(tokens.take())))
    if word == "in":
        tokens.take()
        tokens.take("[")
        values = [_value(tokens.take())]
        while tokens.peek() == ",":
            tokens.take()
            values.append(_value(tokens.take()))
        tokens.take("]")
        return Condition("in", tuple(values))
    return None


def _rule(tokens: _Tokens) -> Rule:
    rule_type = tokens.take()
    params = []
    while (word := tokens.peek()) is not None and word.startswith('"'):
        params.append(_value(tokens.take()))
    return Rule(rule_type, tuple(params), _condition(tokens))


def parse_ruleset(ruleset: str) -> list[TopLevel]:
    """The top-level rules of ``Rules = [ ... ]``, each with its own text."""
    body = ruleset.strip()
    match = re.fullmatch(r"Rules\s*=\s*\[(.*)\]", body, re.DOTALL)
    if not match:
        raise DqdlError("a ruleset is 'Rules = [ ... ]'")
    return [_top_level(text) for text in _split_top_level(match.group(1))]


def _split_top_level(body: str) -> list[str]:
    """The body split on commas outside quotes, brackets and parentheses."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, char in enumerate(body):
        if char == '"' and body[i - 1 : i] != "\\":
            quoted = not quoted
        elif not quoted and char in "[(":
            depth += 1
        elif not quoted and char in "])":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            parts.append(body[start:i].strip())
            start = i + 1
    parts.append(body[start:].strip())
    return [p for p in parts if p]


def _top_level(text: str) -> TopLevel:
    tokens = _Tokens(text)
    if tokens.peek() != "(":
        rule = _rule(tokens)
        if tokens.peek() is not None:
            raise DqdlError(f"unexpected {tokens.peek()!r} in {text}")
        return TopLevel(text, (rule,))
    parts, operators = [], set()
    while True:
        tokens.take("(")
        parts.append(_rule(tokens))
        tokens.take(")")
        if tokens.peek() is None:
            break
        operators.add(tokens.take().lower())
    if len(operators) > 1 or not operators <= {"and", "or"}:
        raise DqdlError(f"a composite rule joins with one of and/or: {text}")
    return TopLevel(text, tuple(parts), operators.pop() if operators else "and")


@dataclass
class _Outcome:
    passed: bool
    metrics: dict[str, float]
    reason: str | None = None


class _Evaluator:
    """Evaluates rules on one primary frame (with a row id) and its reference frames."""

    def __init__(self, primary: DataFrame, references: Mapping[str, DataFrame]) -> None:
        self.primary = primary
        self.references = references
        self.total = int(primary.count())

    def row_column(self, rule: Rule) -> Column | None:
        """The rule's per-row result, or None when it has no row-level results."""
        from pyspark.sql import Window
        from pyspark.sql import functions as sf

        cols = [sf.col(f"`{p}`") for p in rule.params]
        if rule.type == "IsComplete":
            return cols[0].isNotNull()
        if rule.type in {"IsUnique", "IsPrimaryKey"}:
            complete = sf.lit(True)
            for col in cols:
                complete = complete & col.isNotNull()
            copies = sf.count(sf.lit(1)).over(Window.partitionBy(*cols))
            return complete & (copies == 1) if rule.type == "IsPrimaryKey" else copies == 1
        if rule.type == "ColumnValues" and rule.condition is not None:
            return rule.condition.column(cols[0])
        if rule.type == "CustomSql" and rule.condition is None:
            return self._returned_rows(rule.params[0])
        return None

    def _returned_rows(self, sql: str) -> Column:
        from pyspark.sql import functions as sf

        returned = self._sql(sql).distinct()
        flag = f"__dq_returned_{uuid.uuid4().hex[:8]}"
        on = [self.primary[f"`{c}`"].eqNullSafe(returned[f"`{c}`"]) for c in returned.columns]
        marked = self.primary.join(returned.withColumn(flag, sf.lit(True)), on, "left")
        ids = marked.where(sf.col(flag)).select(ROW_ID).distinct()
        self._returned = getattr(self, "_returned", {})
        self._returned[flag] = ids
        return sf.col(flag).isNotNull()

    def with_returned(self, frame: DataFrame) -> DataFrame:
        """``frame`` with the flag columns of row-level CustomSql rules."""
        from pyspark.sql import functions as sf

        for flag, ids in getattr(self, "_returned", {}).items():
            frame = frame.join(ids.withColumn(flag, sf.lit(True)), ROW_ID, "left")
        return frame

    def _sql(self, sql: str) -> DataFrame:
        spark = self.primary.sparkSession
        views = {"primary": self.primary.drop(ROW_ID), **self.references}
        names = {name: f"dq_{name}_{uuid.uuid4().hex[:8]}" for name in views}
        for name, view in names.items():
            views[name].createOrReplaceTempView(view)
        try:
            text = sql
            for name, view in names.items():
                text = re.sub(rf"\b{re.escape(name)}\b", view, text)
            return spark.sql(text).localCheckpoint()
        finally:
            for view in names.values():
                spark.catalog.dropTempView(view)

    def dataset(self, rule: Rule) -> _Outcome:
        """The outcome of a rule without row-level results."""
        from pyspark.sql import functions as sf

        condition = rule.condition
        if condition is None:
            raise DqdlError(f"{rule.type} needs a condition here")
        if rule.type == "RowCount":
            return _Outcome(condition.test(self.total), {"Dataset.*.RowCount": self.total})
        if rule.type == "CustomSql":
            value = float(self._sql(rule.params[0]).collect()[0][0])
            return _Outcome(condition.test(value), {"Dataset.*.CustomSQL": value})
        if rule.type == "ReferentialIntegrity":
            column, target = rule.params
            reference, _, ref_column = target.partition(".")
            keys = self.references[reference].select(sf.col(f"`{ref_column}`").alias("__k"))
            matched = self.primary.join(
                keys.distinct(), self.primary[f"`{column}`"] == keys["__k"], "left_semi"
            ).count()
            ratio = matched / self.total if self.total else 1.0
            name = f"Column.{reference}.{ref_column}.ReferentialIntegrity"
            return _Outcome(condition.test(ratio), {name: ratio})
        raise DqdlError(f"unsupported DQDL rule type {rule.type}")


def _evaluate(
    frame: DataFrame, ruleset: str, references: Mapping[str, DataFrame]
) -> tuple[DataFrame, DataFrame]:
    from pyspark.sql import functions as sf

    rules = parse_ruleset(ruleset)
    primary = frame.withColumn(ROW_ID, sf.monotonically_increasing_id()).localCheckpoint()
    evaluator = _Evaluator(primary, references)
    row_level: dict[str, Column] = {}
    dataset: dict[str, _Outcome] = {}
    for top in rules:
        columns = [evaluator.row_column(rule) for rule in top.parts]
        present = [c for c in columns if c is not None]
        if len(present) == len(columns):
            combined = present[0]
            for col in present[1:]:
                combined = (combined & col) if top.operator == "and" else (combined | col)
            row_level[top.text] = combined
        else:
            parts = [
                evaluator.dataset(r) if c is None else None
                for r, c in zip(top.parts, columns, strict=True)
            ]
            dataset[top.text] = _combine(top, parts)
    flags = {text: f"__dq_{i}" for i, text in enumerate(row_level)}
    rows = evaluator.with_returned(primary)
    rows = rows.select("*", *[col.alias(flags[text]) for text, col in row_level.items()])
    rows = rows.localCheckpoint()
    failures = (
        rows.agg(
            *[sf.sum(sf.when(~sf.col(f), 1).otherwise(0)).alias(f) for f in flags.values()],
            sf.count(sf.lit(1)).alias("__n"),
        ).collect()[0]
        if flags
        else None
    )
    outcomes = []
    for top in rules:
        if top.text in row_level:
            failed = int(failures[flags[top.text]] or 0) if failures is not None else 0
            total = evaluator.total or 1
            outcomes.append(
                (
                    top.text,
                    failed == 0,
                    f"{failed} rows failed" if failed else None,
                    {"Dataset.*.Compliance": (evaluator.total - failed) / total},
                )
            )
        else:
            result = dataset[top.text]
            outcomes.append((top.text, result.passed, result.reason, result.metrics))
    spark = frame.sparkSession
    rule_outcomes = spark.createDataFrame(
        [
            (t, "Passed" if ok else "Failed", reason, {k: float(v) for k, v in metrics.items()})
            for t, ok, reason, metrics in outcomes
        ],
        "Rule string, Outcome string, FailureReason string, EvaluatedMetrics map<string,double>",
    )
    return rule_outcomes, _row_outcomes(rows, frame.columns, flags, list(dataset))


def _combine(top: TopLevel, parts: list[_Outcome | None]) -> _Outcome:
    known = [p for p in parts if p is not None]
    if len(known) != len(parts):
        raise DqdlError(f"a composite mixes row-level and dataset rules: {top.text}")
    passed = all(p.passed for p in known) if top.operator == "and" else any(p.passed for p in known)
    metrics = {k: v for p in known for k, v in p.metrics.items()}
    return _Outcome(passed, metrics, None if passed else "the rule's condition was not met")


def _row_outcomes(
    rows: DataFrame, columns: list[str], flags: Mapping[str, str], skipped: list[str]
) -> DataFrame:
    from pyspark.sql import functions as sf

    def listed(passing: bool) -> Column:
        names = [
            sf.when(sf.col(flag) if passing else ~sf.col(flag), sf.lit(text))
            for text, flag in flags.items()
        ]
        return (
            sf.filter(sf.array(*names), lambda x: x.isNotNull())
            if names
            else sf.array().cast("array<string>")
        )

    failed = listed(False)
    return rows.select(
        *[sf.col(f"`{c}`") for c in columns],
        listed(True).alias("DataQualityRulesPass"),
        failed.alias("DataQualityRulesFail"),
        sf.array(*[sf.lit(t) for t in skipped]).cast("array<string>").alias("DataQualityRulesSkip"),
        sf.when(sf.size(failed) > 0, "Failed")
        .otherwise("Passed")
        .alias("DataQualityEvaluationResult"),
    )


class EvaluateDataQuality:
    """``EvaluateDataQuality.apply`` (rule outcomes) and ``().process_rows`` (both frames)."""

    @classmethod
    def apply(
        cls,
        frame: DynamicFrame,
        ruleset: str,
        publishing_options: Mapping[str, Any] | None = None,
        additional_options: Mapping[str, Any] | None = None,
        additional_data_sources: Mapping[str, DynamicFrame] | None = None,
    ) -> DynamicFrame:
        return cls().process_rows(
            frame, ruleset, publishing_options, additional_options, additional_data_sources
        )["ruleOutcomes"]

    def process_rows(
        self,
        frame: DynamicFrame,
        ruleset: str,
        publishing_options: Mapping[str, Any] | None = None,
        additional_options: Mapping[str, Any] | None = None,
        additional_data_sources: Mapping[str, DynamicFrame] | None = None,
    ) -> DynamicFrameCollection:
        from etl_service.aws.glue.local import DynamicFrame, DynamicFrameCollection

        references = {k: v.toDF() for k, v in (additional_data_sources or {}).items()}
        outcomes, rows = _evaluate(frame.toDF(), ruleset, references)
        glue = frame.glue_ctx
        return DynamicFrameCollection(
            {
                "ruleOutcomes": DynamicFrame(outcomes, glue, "ruleOutcomes"),
                "rowLevelOutcomes": DynamicFrame(rows, glue, "rowLevelOutcomes"),
            },
            glue,
        )
