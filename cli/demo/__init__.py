"""`hocba demo`: sample schools driven through the whole pipeline over the services' HTTP APIs."""
