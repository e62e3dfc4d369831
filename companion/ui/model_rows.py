"""The pieces of the models panel: a photo model's row, the offline card, sizes and folder links.

``models_panel`` puts them together; nothing here starts work of its own.
"""

from __future__ import annotations

from pathlib import Path

from companion.app import models as use_cases
from companion.ui import icons
from companion.ui.qt import Qt, QtCore, QtGui, QtWidgets, Signal, emit
from companion.ui.widgets import button, label


def human_size(size: float | None) -> str:
    if not size:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def about(size: int) -> str:
    """A catalog estimate as people say it: "~600 MB", "~2.7 GB"."""
    megabytes = size / (1 << 20)
    return f"~{megabytes / 1024:.1f} GB" if megabytes >= 1000 else f"~{megabytes:.0f} MB"


def folder_link(folder: str) -> str:
    """Rich text: the folder as a link that opens it (the path is the link's text)."""
    url = QtCore.QUrl.fromLocalFile(folder).toString()
    return f'<a href="{_escape(url)}">{_escape(folder)}</a>'


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def open_folder(url: str) -> None:
    """Open a folder link in the file manager (created first: a new model's folder may not exist yet)."""
    path = Path(QtCore.QUrl(url).toLocalFile())
    path.mkdir(parents=True, exist_ok=True)
    QtGui.QDesktopServices.openUrl(QtCore.QUrl.fromLocalFile(str(path)))


class OfflineCard(QtWidgets.QFrame):
    """A download that could not reach its server: the reason, Retry, local files, and the folder.

    Signals:
        retry(): try the same download again.
        add_files(): add model files the user already has.
    """

    retry = Signal()
    add_files = Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "reminder")      # the design's warning card (warn_* colours)
        self.setObjectName("offline")
        self.icon = QtWidgets.QLabel()
        self.icon.setPixmap(icons.pixmap("offline", 22, "warn_text", self.devicePixelRatioF() or 1.0))
        self.reason = label("", "heading", wrap=True)
        self.detail = label("", "caption", wrap=True)
        self.where = label("", "caption", wrap=True)
        self.where.setTextFormat(Qt.TextFormat.RichText)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                           | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.where.setOpenExternalLinks(False)
        self.where.linkActivated.connect(open_folder)
        for text in (self.reason, self.detail, self.where):  # long paths wrap or clip; they never widen the panel
            text.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
            text.setMinimumWidth(1)
        self.retry_button = button("Retry", "retry", "primary", lambda: emit(self.retry))
        self.add_button = button("Add files I already have…", "open", "", lambda: emit(self.add_files))
        self.folder = ""
        top = QtWidgets.QHBoxLayout()           # the reason and what to do, on one line: a compact card
        top.setSpacing(8)
        top.addWidget(self.reason, 1)
        top.addWidget(self.retry_button)
        top.addWidget(self.add_button)
        words = QtWidgets.QVBoxLayout()
        words.setSpacing(2)
        words.addLayout(top)
        words.addWidget(self.detail)
        words.addWidget(self.where)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(14, 10, 14, 10)
        row.setSpacing(12)
        row.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(words, 1)
        self.hide()

    def show_problem(self, reason: str, folder: str, files: list[str], can_add: bool) -> None:
        self.folder = folder
        self.reason.setText(reason)
        self.detail.setText("Check that this computer is online and try again"
                            + (", or use model files you already have." if can_add else "."))
        names = ", ".join(files)
        self.where.setText(f"The files{' (' + _escape(names) + ')' if names else ''} go in "
                           f"{folder_link(folder)}")
        self.where.setToolTip("Open this folder")
        self.add_button.setVisible(can_add)
        self.show()

    def text(self) -> str:
        """Everything the card says, as a user reads it."""
        return "\n".join(QtGui.QTextDocumentFragment.fromHtml(w.text()).toPlainText()
                         for w in (self.reason, self.detail, self.where) if w.text())


# One row per job, whichever catalog model does it (the others of a kind are detectors the app picks).
ROLES = (("image", "clip", "clip-vit-b-32", "Photo search and pets",
          "Finds photos from a description, and recognises pets and things you add."),
         ("faces", "faces", "dlib-faces", "Faces", "Finds faces in your photos and recognises the people you name."))


class PhotoModelRow(QtWidgets.QFrame):
    """One job a photo model does ("Photo search and pets: ~600 MB", "Faces: included") and its action.

    Signals:
        download(str): fetch this model (its catalog name).
    """

    download = Signal(str)

    def __init__(self, role: str, title: str, says: str, model: use_cases.ImageModelChoice,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "card")
        self.role, self.model = role, model
        icon = QtWidgets.QLabel()
        icon.setPixmap(icons.pixmap("photo" if role == "image" else "face", 20, "accent",
                                    self.devicePixelRatioF() or 1.0))
        self.title = label(f"{title}: {self._state()}")
        self.title.setObjectName(f"photo-model-{role}")
        self.hint = label(says, "caption", wrap=True)
        self.hint.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.hint.setMinimumWidth(1)
        words = QtWidgets.QVBoxLayout()
        words.setSpacing(2)
        words.addWidget(self.title)
        words.addWidget(self.hint)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(12, 8, 12, 8)
        row.setSpacing(10)
        row.addWidget(icon)
        row.addLayout(words, 1)
        self.download_button = button("Download", "download", "", lambda: emit(self.download, model.name))
        self.download_button.setAccessibleName(f"Download: {title}")
        self.download_button.setVisible(model.downloadable and (not model.installed or bool(model.status)))
        row.addWidget(self.download_button)
        self.setAccessibleName(self.title.text())

    def _state(self) -> str:
        model, size = self.model, self.model.size_mb << 20
        if model.installed and model.status:
            return model.status                               # e.g. "random weights (test model)"
        if model.installed:
            return f"installed, {human_size(size)}" if model.downloadable else "included"
        return about(size) if model.downloadable else "missing from this installation"


def photo_rows(models: list[use_cases.ImageModelChoice]) -> list[PhotoModelRow]:
    """A row for each job there is a model for: photo search and pets, and faces."""
    rows = []
    for role, kind, preferred, title, says in ROLES:
        of_kind = [m for m in models if m.kind == kind]
        if of_kind:
            model = next((m for m in of_kind if m.name == preferred), of_kind[0])
            rows.append(PhotoModelRow(role, title, says, model))
    return rows
