"""The photo library: scanning folders, indexing photos, recognising faces and concepts, photo reminders,
and which face detector to run."""
