"""The public lookup portal (Cổng tra cứu học bạ): server-rendered Vietnamese pages, no script."""
