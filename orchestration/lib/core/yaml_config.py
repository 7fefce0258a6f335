"""Small YAML configuration files read on nodes, so every error names the file and the line.

Shared by `accounts.yml` (TikTok APIs) and `alerts.yml`: where the file is (the data dir, or the file an
environment variable names), parsing, and the checks every section needs (a mapping of known keys,
a single value). Each caller passes its own error class, so its users see one kind of error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml


def config_file(data_dir: Path, env_name: str, file_name: str) -> Path:
    """`<data>/<file_name>`, or the file `env_name` names."""
    configured = os.environ.get(env_name, "").strip()
    return Path(configured).expanduser().resolve() if configured else Path(data_dir) / file_name


def existing_config_file(data_dir: Path, env_name: str, file_name: str, error: type[Exception]) -> Path | None:
    """The configuration file, or None when there is none (and the variable names none either)."""
    path = config_file(data_dir, env_name, file_name)
    if path.is_file():
        return path
    if os.environ.get(env_name, "").strip():
        raise error(f"{env_name} names {path}, which does not exist")
    # `accounts.yaml` for `accounts.yml`: ignored, it turned the APIs or the alerts off without a word (review)
    misnamed = path.with_suffix(".yaml" if path.suffix == ".yml" else ".yml")
    if misnamed.is_file():
        raise error(f"{misnamed} is not read: rename it to {path.name}")
    return None


def config_text(path: Path, error: type[Exception]) -> str:
    """The file's text. Not UTF-8 (an editor's Latin-1 or UTF-16 save), it names the line and the byte."""
    try:
        data = path.read_bytes()
    except OSError as problem:
        raise error(f"{path}: cannot be read ({problem.strerror or problem})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        line = data[: problem.start].count(b"\n") + 1
        raise error(
            f"{path}, line {line}: not UTF-8 text (byte {problem.start}: {problem.reason}): save the file as UTF-8"
        ) from None


class ConfigDoc:
    def __init__(self, path: Path, error: type[Exception]):
        self.path = path
        self.error = error

    def fail(self, node: yaml.Node | None, message: str) -> Exception:
        where = f"line {node.start_mark.line + 1}" if node is not None else "top"
        return self.error(f"{self.path}, {where}: {message}")

    def compose(self, text: str) -> yaml.Node | None:
        """The YAML node tree; a syntax error names its line."""
        try:
            return yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as problem:
            mark = problem.problem_mark or problem.context_mark
            line = f"line {mark.line + 1}" if mark else "somewhere"
            raise self.error(f"{self.path}, {line}: not valid YAML ({problem.problem or problem.context})") from None
        except yaml.YAMLError as problem:
            raise self.error(f"{self.path}: not valid YAML ({type(problem).__name__})") from None

    def mapping(self, node: yaml.Node, what: str, allowed: set[str] | None) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """`key: value` lines, each key known (when `allowed` is given) and given once."""
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping of `key: value` lines")
        fields: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None or (allowed is not None and key not in allowed):
                listed = f" (allowed: {', '.join(sorted(allowed))})" if allowed else ""
                raise self.fail(key_node, f"unknown key {key!r} in {what}{listed}")
            if key in fields:
                raise self.fail(key_node, f"key {key!r} appears twice in {what}")
            fields[key] = (key_node, value_node)
        return fields

    def scalar(self, node: yaml.Node, key: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, f"`{key}` must be a single value")
        try:
            return construct(node)
        except yaml.YAMLError as problem:  # a tag the safe loader refuses (`!!python/object`, `!ENV`): no value
            reason = getattr(problem, "problem", None) or type(problem).__name__
            raise self.fail(node, f"`{key}` cannot be read ({reason})") from None


def construct(node: yaml.ScalarNode) -> Any:
    """A scalar node's Python value, typed as YAML's safe loader types it."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node)
    finally:
        loader.dispose()
