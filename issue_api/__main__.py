import sys

if sys.argv[1:2] and sys.argv[1] in ("backup", "restore"):
    from issue_api.backup import main as backup_main

    raise SystemExit(backup_main(sys.argv[1:]))

from issue_api.server import main

raise SystemExit(main())
