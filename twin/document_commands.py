"""Undoable edits of a project's JSON documents (``Project.documents[key]``).

A document is a small JSON-safe dict (a simulation set-up, a summary...). Each
command snapshots the document before and after its change (deep copies), so
undo and redo restore exactly the same dicts, and the project's ``documents``
mapping holds a *new* dict object after every do / undo (views can detect a
change by identity). Push them on ``project.undo_stack``::

    project.undo_stack.push(SetDocumentValue(project, "notes", ("text",), "hello", "Edit notes"))

Documents carry no geometry of their own; a document that does states its frame
(e.g. ``"frame": "LPS"``).
"""

from __future__ import annotations

import copy
import json
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from twin.commands import Command
from twin.errors import InputError


def check_json_safe(doc: Any, where: str = "document") -> None:
    """Raise :class:`InputError` unless ``doc`` survives a JSON round trip unchanged.

    Tuples and NaN are refused too: they would come back as lists / fail to load.
    """
    try:
        text = json.dumps(doc, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: not JSON-safe ({exc})") from None
    if json.loads(text) != doc:
        raise InputError(f"{where}: not JSON-safe (tuples or non-string keys change in a round trip)")


class EditDocument(Command):
    """Base: compute the new document once from a copy of the old one; swap snapshots on do / undo.

    Parameters
    ----------
    project : twin.project.Project
    key : str
        ``project.documents`` key.
    text : str
        Edit-menu label.
    default : callable, optional
        Builds the document when the project has none yet (default: ``{}``).
    """

    def __init__(self, project: Any, key: str, text: str,
                 default: Callable[[], dict[str, Any]] | None = None) -> None:
        self.project = project
        self.key = key
        self.text = text
        self.default = default or dict
        self._before: dict[str, Any] | None = None
        self._existed = False
        self._after: dict[str, Any] | None = None

    @abstractmethod
    def _apply(self, doc: dict[str, Any]) -> dict[str, Any] | None:
        """Change ``doc`` (a private copy) in place, or return a replacement; None result removes nothing.

        Called once; raise :class:`InputError` to refuse the edit (nothing changes).
        """

    def _validate(self, doc: dict[str, Any]) -> None:
        """Hook: raise :class:`InputError` if the new document is not acceptable."""

    def do(self) -> None:  # noqa: D102
        docs = self.project.documents
        if self._after is None:
            self._existed = self.key in docs
            self._before = copy.deepcopy(docs[self.key]) if self._existed else None
            work = copy.deepcopy(docs[self.key]) if self._existed else self.default()
            out = self._apply(work)
            new = work if out is None else out
            check_json_safe(new, f"documents[{self.key!r}]")
            self._validate(new)
            self._after = copy.deepcopy(new)
        docs[self.key] = copy.deepcopy(self._after)

    def undo(self) -> None:  # noqa: D102
        docs = self.project.documents
        if self._existed:
            docs[self.key] = copy.deepcopy(self._before)
        else:
            docs.pop(self.key, None)

    @property
    def before(self) -> dict[str, Any] | None:
        """The document before the edit (None if there was none); valid after the first :meth:`do`."""
        return copy.deepcopy(self._before)

    @property
    def after(self) -> dict[str, Any] | None:
        """The document after the edit; valid after the first :meth:`do`."""
        return copy.deepcopy(self._after)


class SetDocument(EditDocument):
    """Replace (or create) a whole document."""

    def __init__(self, project: Any, key: str, doc: dict[str, Any], text: str = "Set document") -> None:
        super().__init__(project, key, text)
        self.doc = copy.deepcopy(doc)

    def _apply(self, doc: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(self.doc, dict):
            raise InputError(f"documents[{self.key!r}]: expected a JSON object")
        return copy.deepcopy(self.doc)


class RemoveDocument(Command):
    """Remove a document (undo puts the same dict back)."""

    def __init__(self, project: Any, key: str, text: str = "Remove document") -> None:
        self.project = project
        self.key = key
        self.text = text
        self._old: dict[str, Any] | None = None

    def do(self) -> None:  # noqa: D102
        self._old = self.project.documents.pop(self.key, None)

    def undo(self) -> None:  # noqa: D102
        if self._old is not None:
            self.project.documents[self.key] = copy.deepcopy(self._old)


_DELETE = object()


class SetDocumentValue(EditDocument):
    """Set (or, with ``value=DELETE``, remove) one value at ``path`` inside a document.

    Missing intermediate objects are created. Pushed with ``merge=True``, consecutive
    edits of the same document path fold into one undo step (a spin box being typed in).
    """

    DELETE = _DELETE

    def __init__(self, project: Any, key: str, path: Sequence[str], value: Any, text: str | None = None,
                 default: Callable[[], dict[str, Any]] | None = None) -> None:
        if not path:
            raise ValueError("path must name at least one key")
        super().__init__(project, key, text or f"Set {'.'.join(path)}", default)
        self.path = tuple(str(p) for p in path)
        self.value = value if value is _DELETE else copy.deepcopy(value)

    def _apply(self, doc: dict[str, Any]) -> None:
        node = doc
        for k in self.path[:-1]:
            nxt = node.setdefault(k, {})
            if not isinstance(nxt, dict):
                raise InputError(f"documents[{self.key!r}].{k}: not an object")
            node = nxt
        if self.value is _DELETE:
            node.pop(self.path[-1], None)
        else:
            node[self.path[-1]] = copy.deepcopy(self.value)

    def merge_with(self, other: Command) -> bool:  # noqa: D102
        if (isinstance(other, SetDocumentValue) and type(other) is type(self) and other.key == self.key
                and other.path == self.path and other._after is not None):
            self.value = other.value
            self._after = other._after
            return True
        return False
