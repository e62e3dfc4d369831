"""The chat's composer: attach a photo, type a question, send or stop, temporary chat.

Only widgets and their looks; ``ChatView`` connects them.
"""

from __future__ import annotations

import time
from pathlib import Path

from companion.ui import images
from companion.ui.qt import Qt, QtCore, QtGui, QtWidgets, Signal, emit
from companion.ui.widgets import frame, label, tool


class ChatInput(QtWidgets.QPlainTextEdit):
    """The question box; a pasted or dropped image becomes the attachment, not text.

    Signals:
        image_given(str): path of an image pasted or dropped here.
    """

    image_given = Signal(str)

    def __init__(self, paste_dir: Path, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.paste_dir = paste_dir
        self.setPlaceholderText("Ask about a photo or about anyone you've told me about…")
        self.setAccessibleName("Your question")
        self.setFixedHeight(64)

    def canInsertFromMimeData(self, source: QtCore.QMimeData) -> bool:  # noqa: N802 - Qt override
        return source.hasImage() or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QtCore.QMimeData) -> None:  # noqa: N802 - Qt override
        paths = [u.toLocalFile() for u in source.urls() if images.is_image(u.toLocalFile())]
        if paths:
            emit(self.image_given, paths[0])
        elif source.hasImage():
            image = QtGui.QImage(source.imageData())
            self.paste_dir.mkdir(parents=True, exist_ok=True)
            path = self.paste_dir / f"pasted-{time.strftime('%Y%m%d-%H%M%S')}.png"
            if image.save(str(path)):
                emit(self.image_given, str(path))
        else:
            super().insertFromMimeData(source)


class Composer(QtWidgets.QWidget):
    """The rounded box at the bottom of the chat, centred under the conversation."""

    def __init__(self, paste_dir: Path, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.input = ChatInput(paste_dir)
        self.attach_button = tool("attach", "Attach a photo (Ctrl+O)")
        self.temporary = tool("temporary", "Temporary chat: nothing from it is remembered")
        self.temporary.setCheckable(True)
        self.send_button = tool("send", "Send (Ctrl+Enter)", None, "on_accent", 18)
        self.stop_button = tool("stop", "Stop (Esc)", None, "on_accent", 18)
        for round_button in (self.send_button, self.stop_button):
            round_button.setProperty("role", "send")
            round_button.setFixedSize(36, 36)
        self.stop_button.hide()
        self.attachment = QtWidgets.QLabel()
        self.attachment.setAccessibleName("Attached photo")
        self.attachment_name = label("", "caption")
        self.clear_attachment_button = tool("close", "Remove the photo", None, "muted", 14)
        box_frame = frame("composer")
        box = QtWidgets.QVBoxLayout(box_frame)
        box.setContentsMargins(10, 8, 10, 8)
        attach_row = QtWidgets.QHBoxLayout()
        attach_row.addWidget(self.attachment)
        attach_row.addWidget(self.attachment_name)
        attach_row.addWidget(self.clear_attachment_button)
        attach_row.addStretch(1)
        box.addLayout(attach_row)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.attach_button, 0, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(self.input, 1)
        for widget in (self.temporary, self.send_button, self.stop_button):
            row.addWidget(widget, 0, Qt.AlignmentFlag.AlignBottom)
        box.addLayout(row)
        box_frame.setMaximumWidth(820)   # as wide as the conversation column
        centre = QtWidgets.QHBoxLayout()
        centre.addStretch(1)
        centre.addWidget(box_frame, 100)
        centre.addStretch(1)
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(24, 6, 24, 12)
        outer.addLayout(centre)
        self.hint = label("Ctrl+Enter to send · Esc to stop · Ctrl+N for a new chat", "caption")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.hint)

    def show_attachment(self, path: Path | None) -> None:
        from companion.ui import paint

        for widget in (self.attachment, self.attachment_name, self.clear_attachment_button):
            widget.setVisible(path is not None)
        if path is not None:
            ratio = self.devicePixelRatioF() or 1.0
            thumb = paint.rounded(paint.cover(images.load_image(path, 160), round(48 * ratio)), 8 * ratio)
            thumb.setDevicePixelRatio(ratio)
            self.attachment.setPixmap(QtGui.QPixmap.fromImage(thumb))
            self.attachment.setToolTip(str(path))
            self.attachment_name.setText(path.name)
