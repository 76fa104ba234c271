"""The names shown beside report lines: ids read with ASCII digits only."""

from __future__ import annotations

from sqlmodel import Session

from edusim_common.db import make_engine
from sync_service.models import MirrorResponsable, SyncModel
from sync_service.timeline import names_of


def test_names_of_reads_ascii_ids_only(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        SyncModel.metadata.create_all(engine)
        with Session(engine) as session:
            session.add(MirrorResponsable(id=1, school_uai="0021593W", nom="Martin", prenom="Anne"))
            session.commit()
            # ``²`` made int() fail (a 500 on the run page); ``١`` and ``１`` were read as 1.
            weird = ["²", "١", "１", "1" * 5000, "99999999999", "-1", ""]
            assert names_of(session, weird) == {}
            assert names_of(session, ["1", *weird]) == {"1": "Anne Martin"}
    finally:
        engine.dispose()
