from dlsm.cli import main

raise SystemExit(main())
