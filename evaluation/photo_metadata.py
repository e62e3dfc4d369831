"""When and where each photo under a folder was taken, as Companion reads it.

``python -m evaluation.photo_metadata PATH`` checks the photo reader on real files
(e.g. ``shared/data/camera-samples``): one line per file with its capture time,
which clock gave it (``exif``, ``xmp``, ``sidecar``, ``filename``, ``gps``,
``file``, ...), its position and the place (district / city / region / country),
then how many files each clock dated and how many got a city. Files the reader
refuses are listed with the reason. Uses the app's own reader and gazetteer, in a
throw-away profile.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.photo_metadata", description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="a folder of photos (walked like an indexed folder) or one file")
    args = parser.parse_args(argv)
    from companion.app.services import Services
    from companion.core.errors import CompanionError
    from companion.core.library.scan import scan_targets

    scan = scan_targets([args.path])
    sources: collections.Counter[str] = collections.Counter()
    with tempfile.TemporaryDirectory() as home:
        os.environ["COMPANION_HOME"] = home
        services = Services.open(home)
        try:
            reader, geocoder = services.photo_reader, services.geocoder
            with_city = with_gps = refused = 0
            for file in scan.files:
                name = os.path.relpath(file, args.path) if args.path.is_dir() else file
                try:
                    photo = reader.read(Path(file))
                except CompanionError as error:
                    refused += 1
                    print(f"{name}\trefused: {error}")
                    continue
                sources[photo.taken_at_source] += 1
                place = ""
                if photo.latitude is not None and photo.longitude is not None:
                    with_gps += 1
                    found = geocoder.reverse(photo.latitude, photo.longitude)
                    if found is not None:
                        with_city += bool(found.city)
                        place = " / ".join(found.levels())
                    position = f"{photo.latitude:.5f},{photo.longitude:.5f}"
                else:
                    position = "-"
                when = photo.taken_at.isoformat() if photo.taken_at else "-"
                print(f"{name}\t{when}\t{photo.taken_at_source}\t{position}\t{place or '-'}")
        finally:
            services.close()
    print()
    kinds = ", ".join(f"{ext or 'no extension'} {n}" for ext, n in scan.not_photos.most_common())
    print(f"{len(scan.files)} photo files, {refused} refused by the reader; {len(scan.skipped)} other entries "
          f"skipped by the scan, {sum(scan.not_photos.values())} files not photos ({kinds})")
    print("dated from: " + ", ".join(f"{source} {n}" for source, n in sources.most_common())
          + f" (a time without its own offset is read in this computer's zone: {time.strftime('%Z')})")
    print(f"with a GPS position: {with_gps}; with a city: {with_city}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
