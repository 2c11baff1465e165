from issue_api.server import main

raise SystemExit(main())
